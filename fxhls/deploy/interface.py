"""The stream interface of a design: what `DIR/design.json` says about its input and output."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from . import packing

if TYPE_CHECKING:
    from fxhls.ir import Graph


def stream_interface(graph: Graph, name: str, board, clock_mhz: float) -> dict:
    """The content of `design.json` for the hardware graph `graph` (after `lower_for_hardware`).

    `board` is a board name or a `Board`. The input stream carries the output of the
    graph input's Quantize node (the host's input cast); the output stream the graph's
    output. Both must be typed, at most 32 bits wide, and vectors (n,) or images (C, H, W).
    """
    if not isinstance(clock_mhz, (int, float)) or isinstance(clock_mhz, bool) or not 0 < clock_mhz < math.inf:
        raise ValueError(f"the clock must be a positive number of MHz, got {clock_mhz!r}")
    return {
        "name": name,
        "top": top_function_name(name),
        "board": getattr(board, "name", board),
        "clock_mhz": clock_mhz,
        "word_bits": packing.WORD_BITS,
        "input": _stream(graph, _input_cast_output(graph), "input"),
        "output": _stream(graph, graph.outputs[0], "output"),
    }


def top_function_name(name: str) -> str:
    """The C identifier of a design called `name`: HLS top function, IP name, RTL top module."""
    top = re.sub(r"\W", "_", name.strip(), flags=re.ASCII)
    if not top.strip("_"):
        raise ValueError(f"a design name needs a letter or digit, got {name!r}")
    return f"fx_{top}" if top[0].isdigit() else top


def _input_cast_output(graph: Graph) -> str:
    source = graph.inputs[0]
    consumers = [node for node in graph.nodes if source in node.inputs]
    if len(consumers) != 1 or consumers[0].op != "Quantize":
        found = ", ".join(f"{n.op} {n.name!r}" for n in consumers) or "nothing"
        raise ValueError(
            f"the graph input {source!r} must feed exactly one Quantize node (the input cast), "
            f"it feeds {found}; run fxhls.ir.passes.lower_for_hardware first"
        )
    return consumers[0].outputs[0]


def _stream(graph: Graph, tensor_name: str, role: str) -> dict:
    tensor = graph.tensor(tensor_name)
    if tensor.type is None or tensor.shape is None:
        raise ValueError(f"the {role} stream tensor {tensor_name!r} has no fixed-point type or shape; infer types first")
    t, shape = tensor.type, tuple(tensor.shape)
    if t.width > 32:
        raise ValueError(
            f"the {role} stream tensor {tensor_name!r} is {t} ({t.width} bits); "
            "stream values are at most 32 bits wide: cast it to a narrower type"
        )
    if len(shape) not in (1, 3):
        raise ValueError(
            f"the {role} stream tensor {tensor_name!r} has shape {shape}; "
            "streams carry vectors (n,) or images (C, H, W)"
        )
    lane = packing.lane_bits(t.width)
    values = math.prod(shape)
    return {
        "shape": list(shape),
        "type": str(t),
        "width": t.width,
        "frac_bits": t.frac_bits,
        "signed": t.signed,
        "lane": lane,
        "values": values,
        "words": packing.words_per_sample(values, lane),
    }
