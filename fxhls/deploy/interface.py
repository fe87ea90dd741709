"""The stream interface of a design: what `DIR/design.json` says about its input and output."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fxhls.board import Board, board_fields
from fxhls.fixed.formats import kernel_constants
from fxhls.identifiers import TOP_MAX_LENGTH, identifier

from . import packing

if TYPE_CHECKING:
    from fxhls.ir import Graph

MAX_CLOCK_MHZ = 2000  # FPGA fabric clocks stay well below; beyond, rates overflow


def stream_interface(graph: Graph, name: str, board, clock_mhz: float) -> dict:
    """The content of `design.json` for the hardware graph `graph` (after `lower_for_hardware`).

    `board` is a board name or a `Board` (a board file's fields are kept in "board_fields",
    so every later step uses the same board). The input stream carries the output of the
    graph input's Quantize node (the host's input cast); the output stream the graph's
    output. Both must be typed, at most 32 bits wide, and vectors (n,), sequences (C, L) or images (C, H, W).
    """
    if not isinstance(clock_mhz, (int, float)) or isinstance(clock_mhz, bool) or not 0 < clock_mhz <= MAX_CLOCK_MHZ:
        raise ValueError(f"the clock must be a positive number of MHz, at most {MAX_CLOCK_MHZ}, got {clock_mhz!r}")
    return sealed({
        "name": name,
        "top": top_function_name(name),
        "board": getattr(board, "name", board),
        **({"board_fields": board_fields(board)} if isinstance(board, Board) else {}),
        "clock_mhz": clock_mhz,
        "word_bits": packing.WORD_BITS,
        "input": _input_stream(graph),
        "output": {**_stream(graph, graph.outputs[0], "output"), **_indices(graph)},
    })


_SEALED_KEYS = ("name", "top", "board", "board_fields", "clock_mhz", "word_bits", "input", "output")


def sealed(design: dict) -> dict:
    """`design` with "interface_sha256", the digest of its interface fields: `read_design`
    refuses a design.json whose interface was edited after the build (its firmware would
    disagree with it, and hosts would cast and unpack with the wrong types)."""
    return {**design, "interface_sha256": _interface_digest(design)}


def _interface_digest(design: dict) -> str:
    interface = {key: design[key] for key in _SEALED_KEYS if key in design}
    return hashlib.sha256(json.dumps(interface, sort_keys=True).encode()).hexdigest()


def top_function_name(name: str) -> str:
    """The identifier of a design called `name` (`fxhls.identifiers`, prefix "fx_"): HLS top
    function, IP name, RTL top module and the stem of the files named after them."""
    if not re.search(r"[A-Za-z0-9]", str(name), flags=re.ASCII):
        raise ValueError(f"a design name needs an ASCII letter or digit, got {name!r}")
    return identifier(name, TOP_MAX_LENGTH, prefix="fx_")


def _input_stream(graph: Graph) -> dict:
    """The input stream's entry: its stream facts and how the host casts floats to it."""
    tensor = _input_cast_output(graph)
    stream = _stream(graph, tensor, "input")
    return {**stream, "cast": _host_cast(graph.tensor(tensor).type)}


def _host_cast(t) -> dict:
    """How the host quantizes float inputs to the input type: its modes and the constants
    of `fxhls.fixed.quantize_numpy` (the driver runs that file, shipped beside it)."""
    return {"rounding": t.rounding, "overflow": t.overflow, "constants": list(kernel_constants(t, np.float64))}


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


def _indices(graph: Graph) -> dict:
    """{"indices": True} when the output is an ArgMax's (hosts return int64 indices), else {}."""
    from fxhls.ir.ops.argmax import is_index_output

    return {"indices": True} if is_index_output(graph) else {}


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
    if len(shape) not in (1, 2, 3):
        raise ValueError(
            f"the {role} stream tensor {tensor_name!r} has shape {shape}; "
            "streams carry vectors (n,), sequences (C, L) or images (C, H, W)"
        )
    if min(shape) < 1:
        raise ValueError(f"the {role} stream tensor {tensor_name!r} has shape {shape}, with no values; "
                         f"every dimension must be at least 1")
    return _stream_fields(shape, t)


def _stream_fields(shape: tuple[int, ...], t) -> dict:
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


def read_design(design_file) -> dict:
    """The content of a design.json `fxhls build` wrote (DIR/design.json or DIR/deploy/design.json),
    or a one-line ValueError naming the file and what is wrong with it."""
    path = Path(design_file)
    if not path.is_file():
        raise ValueError(f"{path} not found: {path.parent} is not a project written by `fxhls build` "
                         f"(`fxhls build MODEL.onnx --out DIR` writes it)")
    try:
        design = json.loads(path.read_text())
        problem = _design_problem(design)
    except (ValueError, UnicodeDecodeError) as err:
        problem = " ".join(str(err).split())
    if problem:
        raise ValueError(f"{path}: not a design.json written by fxhls build ({problem}); run fxhls build again")
    return design


def _design_problem(design) -> str | None:
    """What is wrong with the content of a design.json, None when nothing is."""
    from fxhls.fixed import FixedType

    if not isinstance(design, dict):
        return "not a JSON object"
    for key, kind in (("name", str), ("top", str), ("board", str), ("clock_mhz", (int, float)), ("word_bits", int),
                      ("input", dict), ("output", dict)):
        if not isinstance(design.get(key), kind) or isinstance(design.get(key), bool):
            return f"{key!r} is missing or not a {getattr(kind, '__name__', 'number')}"
    if design["top"] != top_function_name(design["top"]):
        return f"top {design['top']!r} is not a C identifier"
    if not 0 < design["clock_mhz"] <= MAX_CLOCK_MHZ:
        return f"clock_mhz {design['clock_mhz']!r} is not a positive number of MHz, at most {MAX_CLOCK_MHZ}"
    if design["word_bits"] != packing.WORD_BITS:
        return f"word_bits is {design['word_bits']}, fxhls streams {packing.WORD_BITS}-bit words"
    for role in ("input", "output"):
        stream, shape = design[role], design[role].get("shape")
        if not isinstance(shape, list) or len(shape) not in (1, 2, 3) or \
                not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape):
            return f"the {role} shape {shape!r} is not a list of 1, 2 or 3 positive integers"
        t = FixedType.parse(stream.get("type"))
        fields = _stream_fields(tuple(shape), t)
        if {key: stream.get(key) for key in fields} != fields:
            return f"the {role} stream's fields do not agree with its type {t} and shape {tuple(shape)}"
    if "interface_sha256" not in design:
        return "no interface_sha256: written by an older fxhls"
    if design["interface_sha256"] != _interface_digest(design):
        return "its interface was changed after the build: it no longer matches interface_sha256"
    return None
