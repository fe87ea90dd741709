"""Passes: plain functions on a `Graph`."""

from __future__ import annotations

from .graph import Graph
from .ops import OPS


def infer_types(graph: Graph) -> Graph:
    """Set the shape and exact type of every tensor a node writes, in node order; returns `graph`."""
    for node in graph.nodes:
        inputs = [graph.tensor(name) for name in node.inputs]
        for name, (shape, t) in zip(node.outputs, OPS[node.op].infer(node, inputs)):
            graph.tensor(name).shape, graph.tensor(name).type = tuple(shape), t
    return graph
