"""Casts of the hardware graph that the `ap_fixed` headers cannot compute
(`fxhls.fixed.headers`): refused before any C++ is written, in one line naming the node.

An exact Gemm/Conv accumulator is never refused: its C++ type gets the integer bits the
headers need (`fxhls.hls.layers.conv.kernel_context`), which changes no value.
"""

from __future__ import annotations

from fxhls.fixed import FixedType
from fxhls.fixed.headers import headers_can_convert
from fxhls.ir import Graph
from fxhls.ir.ops import OPS


def check_casts(graph: Graph) -> None:
    """A ValueError naming the first node whose output cast the headers cannot compute."""
    for node in graph.nodes:
        if node.op in ("Gemm", "Conv") and "acc_type" not in node.attrs:
            continue
        if node.op == "Quantize":
            source = graph.tensor(node.inputs[0]).type
        elif node.op in ("Gemm", "Conv"):
            source = FixedType.parse(node.attrs["acc_type"])
        elif "out_type" in node.attrs:
            source = OPS[node.op].infer(node, [graph.tensor(name) for name in node.inputs])[0][1]
        else:
            continue
        target = graph.tensor(node.outputs[0]).type
        if source is not None and target is not None and not headers_can_convert(source, target):
            raise ValueError(
                f"node {node.name!r}: its cast of {source} to {target} rounds a value that lies wholly below the "
                f"target's lsb, which the ap_fixed headers cannot compute (they abort reading a bit beyond the MSB); "
                f"give the target more fractional bits or AP_TRN rounding, or widen the source")
