"""What a QFX model has learned about its types: a table of them, and a regulariser on them."""

from __future__ import annotations

import torch
from torch import nn

from fxhls.qfx.quantizer import FixedQuantizer


def describe_types(model: nn.Module) -> str:
    """A markdown table of every QFX layer: its output type, and its weight, bias and
    accumulator types where it has them (for BatchNorm: the scale and shift types).

    An exact accumulator's type follows from the input type, so it shows once the
    model has run a batch. Max pooling and flatten keep their input's type.
    """
    rows = [_row(name, m) for name, m in model.named_modules() if _is_layer(m)]
    if not rows:
        raise ValueError(f"describe_types: {type(model).__name__} has no QFX layer; convert it with quantize_model")
    header = ["layer", "op", "output", "weight / BN scale", "bias / BN shift", "accumulator"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def bit_cost(model: nn.Module) -> torch.Tensor:
    """The sum of the learned integer bits of the model's quantizers (differentiable).

    A quantizer's width is fixed, so each integer bit it takes is a fractional bit
    it gives up: the sum measures how coarse the model's grids are. Adding
    `weight * bit_cost(model)` to the loss pushes every binary point left (finer
    precision, narrower range) against the task loss, which resists saturation.
    Only quantizers whose binary point is learned count; it uses the continuous
    parameters, not the rounded types, so it has a gradient.
    """
    learned = [m.int_bits for m in model.modules() if isinstance(m, FixedQuantizer) and m.int_bits.requires_grad]
    if not learned:
        return torch.zeros(())
    return torch.stack(learned).sum()


def _is_layer(module: nn.Module) -> bool:
    return type(module).__module__.startswith("fxhls.qfx.") and not isinstance(module, FixedQuantizer)


def _row(name: str, layer: nn.Module) -> list[str]:
    output = getattr(layer, "output_type", None)
    weight = (getattr(layer, "weight_type", None) or getattr(layer, "scale_type", None)
              or getattr(layer, "constant_type", None) or getattr(layer, "slope_type", None))
    bias = getattr(layer, "bias_type", None) or getattr(layer, "shift_type", None)
    weight_cell = _cell(weight)
    if getattr(layer, "khot", None) is not None:
        weight_cell += f" {layer.khot}-hot"
    if getattr(layer, "binary", False):
        weight_cell += " binary"
    cells = [f"`{name}`", type(layer).__name__, _cell(output, "input's"), weight_cell, _cell(bias)]
    if hasattr(layer, "acc_type"):
        acc = layer.acc_type
        exact = layer.user_acc_type is None
        cells.append(("exact " if exact else "") + (_cell(acc) if acc is not None else "(after a forward pass)"))
    else:
        cells.append("")
    return cells


def _cell(t, missing: str = "") -> str:
    return f"`{t}`" if t is not None else missing
