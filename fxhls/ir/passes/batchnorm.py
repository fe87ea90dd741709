"""BatchNorm folding where it is exact and costs no hardware.

An Affine (x * scale + shift per channel) straight after a Gemm/Conv whose
accumulator is exact and uncast folds into the layer: W' = W * scale and
b' = b * scale + shift per output channel give the same accumulator values exactly.
It folds only where the scale is +-2**e (a shift: the folded weights are no wider
than the weights were), and every value stays exact in float64. Binary weights fold
only with scales +-1 (they stay binary); K-hot weights stay K-hot.
"""

from __future__ import annotations

import math

import numpy as np

from fxhls.fixed import FixedType, accumulator_type, check_exact, exact_type

from ..graph import Graph, Node
from ..ops.quantize import type_attrs
from .khot import khot_terms
from .tensors import new_tensor, per_channel
from .types import infer_types


def fold_batchnorm(graph: Graph) -> Graph:
    """Fold each Affine that directly follows an exact, uncast Gemm/Conv into its
    weights and bias where its scale is +-2**e per channel; drop each Affine with
    scale 1 and shift 0 (its `out_type`, if any, stays as a Quantize;
    `drop_redundant_casts` and `fuse_quantize` remove it where they can). Returns `graph`, types inferred."""
    for affine in [n for n in graph.nodes if n.op == "Affine"]:
        scale, shift = (graph.tensor(name) for name in affine.inputs[1:])
        if scale.data is None or shift.data is None:
            continue
        if (scale.data == 1).all() and (shift.data == 0).all():
            _drop_identity(graph, affine)
            continue
        layer = graph.producer(affine.inputs[0])
        if _is_exact_uncast_layer(graph, layer):
            _fold(graph, layer, affine)
    return infer_types(graph)


def _drop_identity(graph: Graph, affine: Node) -> None:
    """Drop an Affine that computes x; its cast, if any, stays as a Quantize."""
    x, y = affine.inputs[0], affine.outputs[0]
    if "out_type" in affine.attrs:
        cast = Node("Quantize", affine.name, [x], [y], type_attrs(FixedType.parse(affine.attrs["out_type"])))
        graph.nodes[graph.nodes.index(affine)] = cast
        return
    for node in graph.consumers(y):
        node.inputs = [x if name == y else name for name in node.inputs]
    graph.outputs = [x if name == y else name for name in graph.outputs]
    graph.remove_node(affine)


def _is_exact_uncast_layer(graph: Graph, layer: Node | None) -> bool:
    if layer is None or layer.op not in ("Gemm", "Conv") or {"out_type", "acc_type"} & layer.attrs.keys():
        return False
    return len(graph.consumers(layer.outputs[0])) == 1 and layer.outputs[0] not in graph.outputs


def _fold(graph: Graph, layer: Node, affine: Node) -> None:
    """Fold `affine` into `layer` if the folded constants are exact and no wider."""
    shape = graph.tensor(affine.inputs[0]).shape
    scale, shift = (per_channel(graph.tensor(name).data, shape) for name in affine.inputs[1:])
    if scale is None or shift is None or not (np.abs(np.frexp(scale)[0]) == 0.5).all():
        return
    x, weights = graph.tensor(layer.inputs[0]), graph.tensor(layer.inputs[1])
    if x.type is None or (weights.facts.get("binary") and not (np.abs(scale) == 1).all()):
        return
    bias = graph.tensor(layer.inputs[2]).data if len(layer.inputs) > 2 else np.zeros_like(scale)
    folded_weights = weights.data * scale.reshape(-1, *[1] * (weights.data.ndim - 1))
    folded_bias = bias * scale + shift
    weight_type, bias_type = exact_type(folded_weights, min_frac_bits=0), exact_type(folded_bias, min_frac_bits=0)
    if weight_type.width > weights.type.width:
        return
    try:
        check_exact(accumulator_type(x.type, weight_type, math.prod(weights.shape[1:]), bias_type), np.float64)
    except ValueError:
        return
    facts = {key: value for key, value in weights.facts.items() if key in ("khot", "binary")}
    if "terms" in weights.facts:
        facts["terms"] = khot_terms(folded_weights, weight_type.frac_bits, int(facts["khot"]), weights.name)
    layer.inputs[1:] = [new_tensor(graph, f"{weights.name}_folded", folded_weights, weight_type, facts),
                        new_tensor(graph, f"{affine.name}_bias", folded_bias, bias_type)]
    layer.outputs[0] = affine.outputs[0]
    layer.attrs.update({key: affine.attrs[key] for key in ("out_type",) if key in affine.attrs})
    graph.remove_node(affine)

