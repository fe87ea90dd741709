"""Type and shape inference."""

from __future__ import annotations

from fxhls.fixed import FixedType

from ..graph import Graph
from ..ops import OPS


def infer_types(graph: Graph) -> Graph:
    """Set the shape and exact type of every tensor a node writes, in node order; a
    node's `out_type` attribute (the cast fused into it) sets its output's type.
    Returns `graph`."""
    for node in graph.nodes:
        inputs = [graph.tensor(name) for name in node.inputs]
        results = OPS[node.op].infer(node, inputs)
        if "out_type" in node.attrs:
            results = [(shape, FixedType.parse(node.attrs["out_type"])) for shape, _ in results]
        for name, (shape, t) in zip(node.outputs, results):
            graph.tensor(name).shape, graph.tensor(name).type = tuple(shape), t
    return graph
