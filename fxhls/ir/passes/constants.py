"""Constant folding of weight quantizers."""

from __future__ import annotations

from fxhls.fixed import quantize

from ..graph import Graph
from ..ops.quantize import node_type

_FACTS = ("khot", "binary")


def fold_constants(graph: Graph) -> Graph:
    """Replace every Quantize of a constant by the constant it computes: the output
    tensor takes the quantized values (float64), the type, and the node's facts about
    the values (`khot`, `binary`). Returns `graph`."""
    for node in [n for n in graph.nodes if n.op == "Quantize" and graph.is_constant(n.inputs[0])]:
        t = node_type(node.attrs)
        values = graph.tensor(node.inputs[0]).data
        folded = graph.tensor(node.outputs[0])
        folded.data, folded.type, folded.shape = quantize(values, t), t, tuple(values.shape)
        folded.facts.update({k: node.attrs[k] for k in _FACTS if k in node.attrs})
        if "binary" in folded.facts:
            folded.facts["binary"] = bool(folded.facts["binary"])
        graph.remove_node(node)
    return graph
