"""BNN thresholds: a binary layer's BatchNorm and Sign become integer comparisons.

The sum of products of a binary layer (inputs and weights -1 or +1) with N products
is an integer of [-N, N] with N's parity (fewer products at a zero-padded border).
The stage after it (the bias, its cast, the BatchNorm Affine, casts, Sign) is
evaluated on every such sum with the IR's own exact execution; where it is monotone
in the sum, Sign of it is one comparison per channel: the layer loses its bias and
cast, and a `Threshold` on its integer sum writes what the Sign wrote.
"""

from __future__ import annotations

import math

import numpy as np

from fxhls.fixed import BINARY_TYPE, FixedType, exact_type

from ..execute import execute
from ..graph import Graph, Node, Tensor
from ..ops.quantize import type_attrs
from ..ops.windows import window_pads, windows
from .tensors import new_tensor
from .types import infer_types

# Per-channel element-wise ops that may stand between a binary layer and its Sign.
_BETWEEN = {"Quantize", "Affine", "Relu"}
# Ops whose output holds values of their input (so -1 and +1 stay so).
_VALUE_KEEPING = {"Flatten", "MaxPool"}


def fold_bnn_thresholds(graph: Graph) -> Graph:
    """Replace each binary Gemm/Conv -> (cast, Affine, casts) -> Sign by the Gemm/Conv,
    without bias or cast, feeding a `Threshold` on its integer sum, where the stage is
    monotone in the sum; a stage that is not (an AP_WRAP cast that wraps) stays as it
    is. Returns `graph`, types inferred."""
    for sign in [n for n in graph.nodes if n.op == "Sign"]:
        stage = _binary_stage(graph, sign)
        if stage is None:
            continue
        layer, between = stage
        sums = _product_sums(graph, layer)
        signs = _stage_signs(graph, layer, between + [sign], sums[:, None] + _bias(graph, layer)[None, :])
        comparisons = None if signs is None else _thresholds(sums, signs)
        if comparisons is not None:
            _fold(graph, layer, between, sign, *comparisons)
    return infer_types(graph)


def _binary_stage(graph: Graph, sign: Node) -> tuple[Node, list[Node]] | None:
    """(layer, nodes between it and `sign`) when `sign` ends a binary layer's stage."""
    between = []
    node = graph.producer(sign.inputs[0])
    while node is not None and node.op in _BETWEEN:
        if node.op == "Affine" and not all(graph.is_constant(name) for name in node.inputs[1:]):
            return None
        between.insert(0, node)
        node = graph.producer(node.inputs[0])
    if node is None or node.op not in ("Gemm", "Conv") or "acc_type" in node.attrs:
        return None
    for passing in [node, *between]:
        if len(graph.consumers(passing.outputs[0])) != 1 or passing.outputs[0] in graph.outputs:
            return None
    weights = graph.tensor(node.inputs[1])
    if not weights.facts.get("binary") or not (np.abs(weights.data) == 1).all():
        return None
    return (node, between) if holds_binary_values(graph, node.inputs[0]) else None


def holds_binary_values(graph: Graph, name: str) -> bool:
    """Whether tensor `name` holds only -1 and +1: a Sign's or Threshold's output, maybe
    flattened or max-pooled without padding (what a backend may carry as one bit per value;
    a padded max pool's zeros are neither)."""
    node = graph.producer(name)
    if node is None or graph.tensor(name).type != BINARY_TYPE:
        return False
    if node.op in _VALUE_KEEPING and not (node.op == "MaxPool" and any(window_pads(node))):
        return holds_binary_values(graph, node.inputs[0])
    return node.op in ("Sign", "Threshold")


def _product_sums(graph: Graph, layer: Node) -> np.ndarray:
    """Every value the layer's sum of products can take, sorted: the sums of n values
    -1 or +1, n being the products that exist at an output position (zero padding
    leaves fewer at a border)."""
    weights = graph.tensor(layer.inputs[1]).data
    counts = {math.prod(weights.shape[1:])}
    if layer.op == "Conv" and any(layer.attrs["pads"]):
        _, height, width = graph.tensor(layer.inputs[0]).shape
        taps = windows(np.ones((1, 1, height, width)), weights.shape[2:], layer.attrs["strides"],
                       layer.attrs["pads"]).sum(axis=(4, 5))
        counts = {int(c) * weights.shape[1] for c in np.unique(taps).tolist()}
    return np.array(sorted({s for n in counts for s in range(-n, n + 1, 2)}), dtype=np.float64)


def _bias(graph: Graph, layer: Node) -> np.ndarray:
    if len(layer.inputs) > 2:
        return graph.tensor(layer.inputs[2]).data
    return np.zeros(graph.tensor(layer.inputs[1]).shape[0])


def _stage_signs(graph: Graph, layer: Node, nodes: list[Node], accumulator: np.ndarray) -> np.ndarray | None:
    """The stage's output (-1/+1, shape (values, channels)) for every accumulator value,
    by executing the layer's cast and `nodes`; None when it is not one value per channel."""
    per_sample = (-1,) + (1,) * (len(graph.tensor(layer.outputs[0]).shape) - 1)
    start, cast = layer.outputs[0], []
    if "out_type" in layer.attrs:
        start = "accumulator"
        out_type = FixedType.parse(layer.attrs["out_type"])
        cast = [Node("Quantize", "cast", [start], [layer.outputs[0]], type_attrs(out_type))]
    names = {name for node in nodes for name in node.inputs} | {nodes[-1].outputs[0]}
    tensors = {name: graph.tensor(name) for name in names} | {start: Tensor(start)}
    stage = Graph(cast + nodes, tensors, [start], [nodes[-1].outputs[0]])
    signs = execute(stage, accumulator.reshape(accumulator.shape[0], *per_sample))[0]
    return signs.reshape(accumulator.shape) if signs.size == accumulator.size else None


def _thresholds(sums: np.ndarray, signs: np.ndarray):
    """(thresholds, directions) on the sum of products, reproducing `signs` (values,
    channels) over `sums`, or None when a channel's output is not monotone in it."""
    plus = signs > 0
    rising = (plus[1:] >= plus[:-1]).all(0)
    falling = (plus[1:] <= plus[:-1]).all(0)
    if not (rising | falling).all():
        return None
    first_plus = plus.argmax(0)
    last_plus = plus.shape[0] - 1 - plus[::-1].argmax(0)
    thresholds = np.where(rising, sums[first_plus], sums[last_plus])
    never_reached = sums[-1] + 1  # the threshold of a channel that is always -1
    thresholds = np.where(plus.any(0), thresholds, never_reached)
    return thresholds, np.where(rising, 1, -1)


def _fold(graph: Graph, layer: Node, between: list[Node], sign: Node, thresholds: np.ndarray,
          directions: np.ndarray) -> None:
    """The layer, uncast and without bias (the thresholds hold it), feeds a Threshold
    that writes what `sign` wrote."""
    layer.attrs.pop("out_type", None)
    bias = layer.inputs[2:]
    del layer.inputs[2:]
    name = new_tensor(graph, f"{sign.name}_thresholds", thresholds, exact_type(thresholds, signed=True, min_frac_bits=0))
    threshold = Node("Threshold", sign.name, [layer.outputs[0], name], list(sign.outputs),
                     {"direction": directions.tolist()})
    graph.nodes[graph.nodes.index(sign)] = threshold
    for node in between:
        graph.remove_node(node)
    for name in bias:  # already gone if removing `between` dropped it
        if name in graph.tensors and not graph.consumers(name):
            del graph.tensors[name]

