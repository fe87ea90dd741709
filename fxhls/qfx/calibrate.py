"""`calibrate`: post-training quantization (PTQ), the baseline QFX training improves on.

Every `FixedQuantizer` of the model gets the fewest integer bits that hold all
the values it is given on the calibration data, so nothing overflows and the
precision is as fine as that allows; a "calibrated" binary point then stays
where it is set. A quantizer whose binary point is "fixed", or learned but
frozen (`int_bits.requires_grad` off), keeps its type; one that cannot hold its
values is an error naming it. Weight, bias and BatchNorm quantizers are
given the parameters themselves, so they are fitted to those.

The order issue: a quantizer's input depends on the binary points of the
quantizers before it. We run whole passes over the data and refit every
quantizer after each, until a pass changes nothing. This ends, with the same
result as fitting one quantizer at a time in execution order: in a feed-forward
model a quantizer's input depends only on quantizers run before it, so pass p
settles the p-th quantizer for good (with Q quantizers, at most Q + 1 passes).
In practice the first pass fits nearly all of them and the second confirms.
"""

from __future__ import annotations

import math
from typing import Iterable

import torch
from torch import nn

from fxhls.qfx.quantizer import FixedQuantizer


def calibrate(model: nn.Module, data: torch.Tensor | Iterable, batch_size: int = 256) -> nn.Module:
    """Fit every quantizer's integer bits to `data`; returns `model`.

    `data` is a tensor of inputs (run in batches of `batch_size`) or an iterable of
    input batches; a batch that is a tuple or list, such as (inputs, labels) from a
    DataLoader, contributes its first element. The model runs in eval mode under
    `torch.no_grad`, and is returned to its former mode.
    """
    quantizers = [(name, m) for name, m in model.named_modules() if isinstance(m, FixedQuantizer)]
    if not quantizers:
        raise ValueError(f"calibrate: {type(model).__name__} has no FixedQuantizer; convert it with quantize_model")
    batches = _batches(data, batch_size)
    was_training = model.training
    model.eval()
    try:
        for _ in range(len(quantizers) + 1):
            ranges = observe_ranges(model, [q for _, q in quantizers], batches)
            changed = [_fit(name, q, *ranges[q]) for name, q in quantizers]
            if not any(changed):
                return model
    finally:
        model.train(was_training)
    raise ValueError("calibrate: the binary points did not settle; is the model deterministic in eval mode?")


def observe_ranges(model: nn.Module, quantizers: list[FixedQuantizer], batches) -> dict:
    """{quantizer: (lowest, highest) value it is given} over one pass of `batches`, under no_grad."""
    infinity = torch.tensor(math.inf, dtype=torch.float64)
    ranges = {q: (infinity, -infinity) for q in quantizers}

    def record(quantizer, args):
        low, high = ranges[quantizer]
        x = args[0].detach()
        # torch.minimum/maximum keep a NaN, which calibrate then reports
        ranges[quantizer] = (torch.minimum(low, x.min().double()), torch.maximum(high, x.max().double()))

    handles = [q.register_forward_pre_hook(record) for q in quantizers]
    try:
        with torch.no_grad():
            for batch in batches:
                model(batch)
    finally:
        for handle in handles:
            handle.remove()
    return {q: (low.item(), high.item()) for q, (low, high) in ranges.items()}


def _fit(name: str, quantizer: FixedQuantizer, low: float, high: float) -> bool:
    """Set the quantizer's integer bits to fit [low, high]; True if they changed."""
    if low > high:
        return False  # not run: the data never reached it
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"calibrate: quantizer '{name}' was given non-finite values ({low}, {high})")
    int_bits = quantizer.fitting_int_bits(low, high)
    if not quantizer.int_bits.requires_grad and quantizer.binary_point != "calibrated":
        # fixed, or a learned one the user froze: check it, keep it
        if int_bits is not None and int_bits > quantizer.type.int_bits:
            raise ValueError(
                f"calibrate: quantizer '{name}' has the fixed type {quantizer.type}, which cannot hold "
                f"its values' range [{low:g}, {high:g}]; widen it or let its binary point be learned"
            )
        return False
    if int_bits is None:
        return False
    quantizer.fitted = True
    if int_bits == quantizer.type.int_bits:
        return False
    quantizer.set_int_bits(int_bits)
    return True


def _batches(data, batch_size: int) -> list[torch.Tensor]:
    if isinstance(data, torch.Tensor):
        batches = list(data.split(batch_size))
    else:
        batches = [batch[0] if isinstance(batch, (tuple, list)) else batch for batch in data]
    if not batches:
        raise ValueError("calibrate: no calibration data")
    return batches
