"""Binary weights with a per-channel scale (XNOR-Net's alpha) become -1/+1 weights and an Affine.

A binary layer with a scale holds W[o] = signs[o] * alpha[o] (QFX `binary_scale`).
The hardware counts with the signs (XNOR and popcount when the inputs are binary too)
and multiplies each output channel by alpha once: Gemm/Conv(x, signs) then
Affine(sum, alpha, bias). With an exact accumulator both compute the same values.
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import BINARY_TYPE, accumulator_type, check_exact, exact_type, result_type

from ..graph import Graph, Node
from .tensors import new_tensor
from .types import infer_types


def split_binary_scale(graph: Graph) -> Graph:
    """Split every exact Gemm/Conv whose weights are marked binary but hold +-alpha per
    output channel into the layer with weights -1/+1 (`binary` fact) and an Affine by
    alpha plus the bias, which takes the layer's `out_type`. Returns `graph`, types inferred."""
    for layer in [n for n in graph.nodes if n.op in ("Gemm", "Conv") and "acc_type" not in n.attrs]:
        weights = graph.tensor(layer.inputs[1])
        if not weights.facts.get("binary") or (np.abs(weights.data) == 1).all():
            continue
        magnitudes = np.abs(weights.data).reshape(weights.data.shape[0], -1)
        alpha = magnitudes[:, 0]
        if (magnitudes == alpha[:, None]).all() and (alpha > 0).all() and _exact(graph, layer, alpha):
            _split(graph, layer, alpha)
    return infer_types(graph)


def _exact(graph: Graph, layer: Node, alpha: np.ndarray) -> bool:
    """Whether the split layer's sum and the Affine after it are exact in float64."""
    x, weights = graph.tensor(layer.inputs[0]), graph.tensor(layer.inputs[1])
    if x.type is None:
        return False
    signed_sum = accumulator_type(x.type, BINARY_TYPE, weights.data[0].size)
    shift_type = graph.tensor(layer.inputs[2]).type if len(layer.inputs) > 2 else exact_type(np.zeros(1), min_frac_bits=0)
    try:
        check_exact(result_type("add", result_type("mul", signed_sum, exact_type(alpha, min_frac_bits=0)), shift_type), np.float64)
    except ValueError:
        return False
    return True


def _split(graph: Graph, layer: Node, alpha: np.ndarray) -> None:
    weights = graph.tensor(layer.inputs[1])
    per_channel = (-1,) + (1,) * (len(graph.tensor(layer.outputs[0]).shape) - 1)
    bias = graph.tensor(layer.inputs[2]) if len(layer.inputs) > 2 else None
    shift = (bias.data if bias is not None else np.zeros(alpha.shape[0])).reshape(per_channel)
    signs = np.sign(weights.data)
    constants = [new_tensor(graph, f"{weights.name}_signs", signs, BINARY_TYPE, {"binary": True}),
                 new_tensor(graph, f"{layer.name}_alpha", alpha.reshape(per_channel), exact_type(alpha, min_frac_bits=0)),
                 new_tensor(graph, f"{layer.name}_shift", shift, bias.type if bias else exact_type(shift, min_frac_bits=0))]
    signed_sum = new_tensor(graph, f"{layer.name}_signed_sum")
    affine = Node("Affine", f"{layer.name}_alpha", [signed_sum, *constants[1:]], [layer.outputs[0]],
                  {key: layer.attrs.pop(key) for key in ("out_type",) if key in layer.attrs})
    old_constants = layer.inputs[1:]
    layer.inputs[1:], layer.outputs[0] = constants[:1], signed_sum
    graph.nodes.insert(graph.nodes.index(layer) + 1, affine)
    for name in old_constants:
        if not graph.consumers(name):
            del graph.tensors[name]

