"""Split a float-scaled graph's host edges off: the float32 work the host does before
and after the hardware (`fxhls.ir.ops.host`).

The HostQuantize becomes the input cast to its codes' integer type (a Quantize, which
leaves the codes the host sends as they are); where a Flatten or Reshape of the input
comes before it and its constants are one value each (it then commutes with them), it
moves before them, so that the graph input is read by the cast. The HostFloat writing
the graph output goes, and the hardware's output is its input.
"""

from __future__ import annotations

from ..graph import Graph, Node
from .types import infer_types

_TYPE_ATTRS = ("width", "int_bits", "signed", "rounding", "overflow")


def split_host_edges(graph: Graph) -> dict:
    """Change `graph` (in place) into what the hardware computes; return the host's part,
    {"head": {"chain", "quant", "offset"} or None, "tail": {"chain"} or None}, plain values."""
    host = {"head": None, "tail": None}
    for node in list(graph.nodes):
        if node.op == "HostQuantize":
            if host["head"] is not None:
                raise ValueError(f"node {node.name!r}: a second quantizer of the float input; the hardware takes "
                                 f"one (quantize the input once and branch after it)")
            host["head"] = {key: node.attrs[key] for key in ("chain", "quant", "offset")}
            node.op, node.attrs = "Quantize", {key: node.attrs[key] for key in _TYPE_ATTRS}
            _before_moves(graph, node, host["head"])
        elif node.op == "HostFloat":
            if node.outputs != graph.outputs or len(graph.consumers(node.outputs[0])) > 0:
                raise ValueError(f"node {node.name!r}: host float work is supported as the graph's one output only")
            host["tail"] = {"chain": node.attrs["chain"]}
            graph.outputs = [node.inputs[0]]
            graph.remove_node(node)
    infer_types(graph)
    return host


def _before_moves(graph: Graph, cast: Node, head: dict) -> None:
    """Swap the input cast with the Flatten or Reshape before it while its constants are single values."""
    constants = [head["quant"]["scale"], head["quant"]["zero"],
                 *(step["constant"] for step in head["chain"]["steps"] if "constant" in step)]
    if any(len(values) != 1 for values in constants):
        return
    mover = graph.producer(cast.inputs[0])
    while mover is not None and mover.op in ("Flatten", "Reshape") and len(graph.consumers(mover.outputs[0])) == 1:
        (mover.op, mover.attrs), (cast.op, cast.attrs) = (cast.op, cast.attrs), (mover.op, mover.attrs)
        cast, mover = mover, graph.producer(mover.inputs[0])
