"""A Concat of several tensors as Concats of two, so that a hardware stage joins two streams."""

from __future__ import annotations

from ..graph import Graph, Node
from .tensors import new_tensor
from .types import infer_types


def split_concat(graph: Graph) -> Graph:
    """Turn each Concat of k > 2 inputs into k - 1 Concats of two on the same axis, left
    to right: Concat(a, b, c) is Concat(Concat(a, b), c), the same values in the same
    order (and the same exact common type). Returns `graph`, types inferred."""
    for node in [n for n in graph.nodes if n.op == "Concat" and len(n.inputs) > 2]:
        index = graph.nodes.index(node)
        joined = node.inputs[0]
        for count, name in enumerate(node.inputs[1:-1], start=1):
            part = new_tensor(graph, f"{node.outputs[0]}_part{count}")
            graph.nodes.insert(index, Node("Concat", f"{node.name}_part{count}", [joined, name], [part],
                                           dict(node.attrs)))
            index, joined = index + 1, part
        node.inputs = [joined, node.inputs[-1]]
    return infer_types(graph)
