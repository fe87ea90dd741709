"""Fusions that make one node per hardware stage."""

from __future__ import annotations

from ..graph import Graph, Node
from ..ops.quantize import node_type

# Ops whose result a hardware stage can cast on its way out.
_CASTABLE = {"Gemm", "Conv", "MatMul", "Affine", "Relu", "Add", "Mul", "MaxPool", "AveragePool",
             "GlobalAveragePool", "Flatten", "PRelu"}


def fuse_quantize(graph: Graph) -> Graph:
    """Fold each Quantize into the node that computes its input, as that node's
    `out_type`, where nothing else reads the value before the cast; a cast after a
    Reshape or Transpose (a 1-D layer's way back from its one-row image) is first
    moved before it (a cast is element-wise: they commute). Returns `graph`."""
    for cast in [n for n in graph.nodes if n.op == "Quantize"]:
        _before_movers(graph, cast)
        source = graph.producer(cast.inputs[0])
        if source is None or source.op not in _CASTABLE or "out_type" in source.attrs:
            continue
        if len(graph.consumers(cast.inputs[0])) != 1 or cast.inputs[0] in graph.outputs:
            continue
        source.attrs["out_type"] = str(node_type(cast.attrs))
        _bypass(graph, source, cast)
    return graph


def fuse_affine(graph: Graph) -> Graph:
    """Turn `Add(Mul(x, scale), shift)` with per-channel constant scale and shift into
    one `Affine(x, scale, shift)` node: the fixed-point BatchNorm. Returns `graph`."""
    for mul in [n for n in graph.nodes if n.op == "Mul"]:
        scale = next((name for name in mul.inputs if graph.is_constant(name)), None)
        consumers = graph.consumers(mul.outputs[0])
        if scale is None or "out_type" in mul.attrs or len(consumers) != 1 or consumers[0].op != "Add":
            continue
        add = consumers[0]
        shift = next((name for name in add.inputs if name != mul.outputs[0]), None)
        if shift is None or not graph.is_constant(shift) or mul.outputs[0] in graph.outputs:
            continue
        x = next(name for name in mul.inputs if name != scale)
        affine = Node("Affine", add.name, [x, scale, shift], list(add.outputs), dict(add.attrs))
        graph.nodes[graph.nodes.index(add)] = affine
        graph.remove_node(mul)
    return graph


def _before_movers(graph: Graph, cast: Node) -> None:
    """Swap `cast` with each Reshape or Transpose before it whose output only it reads:
    mover(x) -> cast becomes cast(x) -> mover."""
    while (mover := graph.producer(cast.inputs[0])) is not None and mover.op in ("Reshape", "Transpose") and \
            len(graph.consumers(mover.outputs[0])) == 1 and mover.outputs[0] not in graph.outputs:
        x, between, y = mover.inputs[0], mover.outputs[0], cast.outputs[0]
        graph.tensor(between).shape = graph.tensor(x).shape
        graph.tensor(between).type = graph.tensor(y).type
        cast.inputs, cast.outputs, mover.inputs, mover.outputs = [x], [between], [between], [y]
        first, second = sorted((graph.nodes.index(mover), graph.nodes.index(cast)))
        graph.nodes[first], graph.nodes[second] = cast, mover


def _bypass(graph: Graph, source: Node, cast: Node) -> None:
    """`source` now writes what `cast` wrote; `cast` goes."""
    source.outputs[source.outputs.index(cast.inputs[0])] = cast.outputs[0]
    graph.remove_node(cast)
