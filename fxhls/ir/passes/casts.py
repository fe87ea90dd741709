"""Casts that change no value."""

from __future__ import annotations

from fxhls.fixed import FixedType

from ..graph import Graph
from ..ops.quantize import node_type
from .types import infer_types


def drop_redundant_casts(graph: Graph) -> Graph:
    """Remove each Quantize of a value whose type's every value is one of the cast's
    type (the cast keeps it): its readers read the value itself (unless one is a
    truncated Table, whose grid is its input type's). Returns `graph`, types inferred."""
    graph = infer_types(graph)
    for cast in [n for n in graph.nodes if n.op == "Quantize"]:
        x, y = cast.inputs[0], cast.outputs[0]
        if not holds_every_value(node_type(cast.attrs), graph.tensor(x).type) or _read_by_truncated_table(graph, y):
            continue
        for node in graph.consumers(y):
            node.inputs = [x if name == y else name for name in node.inputs]
        graph.outputs = [x if name == y else name for name in graph.outputs]
        graph.remove_node(cast)
    return infer_types(graph)


def _read_by_truncated_table(graph: Graph, name: str) -> bool:
    """Whether a truncated Table reads `name`: its grid is its input type's, so that type stays."""
    return any(node.op == "Table" and "drop_bits" in node.attrs for node in graph.consumers(name))


def holds_every_value(t: FixedType, s: FixedType | None) -> bool:
    """Whether every value of type `s` is one of type `t` (so casting to `t` keeps it)."""
    return s is not None and t.frac_bits >= s.frac_bits and t.min <= s.min and s.max <= t.max
