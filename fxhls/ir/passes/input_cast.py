"""The input cast of a network that binarizes its float input (a Sign, as QONNX's
BipolarQuant on the input imports)."""

from __future__ import annotations

from fxhls.fixed import FixedType

from ..graph import Graph, Node
from ..ops.quantize import type_attrs
from .tensors import new_tensor
from .types import infer_types

# floor, then saturate: x >= 0 -> 0 or 1, x < 0 -> -1 or -2, so every value keeps its sign
SIGN_KEEPING = FixedType(2, 2, True, "AP_TRN", "AP_SAT")


def cast_binary_input(graph: Graph) -> Graph:
    """Where the graph's input is read by Sign nodes only, give it the input cast a
    hardware graph starts with: a Quantize to `SIGN_KEEPING`, which the Signs then read
    (they compute what they did: the cast keeps each value's sign, -0.0 included).
    Returns `graph`, types inferred."""
    readers = graph.consumers(graph.inputs[0]) if len(graph.inputs) == 1 else []
    if not readers or any(node.op != "Sign" for node in readers):
        return graph
    x = graph.inputs[0]
    cast = new_tensor(graph, f"{x}_cast")
    for node in readers:
        node.inputs = [cast if name == x else name for name in node.inputs]
    graph.nodes.insert(0, Node("Quantize", f"{x}_cast", [x], [cast], type_attrs(SIGN_KEEPING)))
    return infer_types(graph)
