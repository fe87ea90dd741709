"""`write_hls_project`: a Vitis HLS project (firmware, testbench, Tcl, Makefile, report)
for a hardware graph."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from fxhls.board import design_board
from fxhls.deploy.transports import write_words
from fxhls.fixed import FixedType
from fxhls.ir import Graph
from fxhls.ir.passes import check_hardware_graph
from fxhls.rtl.folding import LayerKnob, fold_set_by
from fxhls.sim.csim import FLAGS
from fxhls.sim.toolchain import ToolNotFoundError, ap_types_include_dir
from fxhls.escaping import Code, make_path
from fxhls.templating import render

from . import vectors
from .casts import check_casts
from .dataflow import Plan, Stage, plan_dataflow
from .layers import LayerContext, layer_function
from .layers.conv import LANE_KERNELS, kernel_kind
from .layers.calls import stage_call
from .naming import check_top_name, safe_graph
from .parallelism import FOLDING_OPS, ParallelismOptions, layer_knobs, resolve_reuse
from .report import write_report


@dataclass
class Layer:
    """One stage of the project: its plan entry, reuse and the C++ its layer function gave;
    a compute layer's SIMD x PE (K-hot and binary; None: `lane_fold` of its reuse) and
    what set its fold (`fxhls.rtl.folding.fold_set_by`)."""

    stage: Stage
    reuse: int
    code: dict
    fold: tuple[int, int] | None = None
    set_by: str = ""


@dataclass
class HlsProject:
    """What `write_hls_project` wrote: the design (design.json), the stages, the
    report's summary (`fxhls.hls.report.summary`) and the testbench's vectors: its inputs
    (cast to the input type) and the emulator's outputs for them."""

    design: dict
    layers: list[Layer]
    summary: dict
    test_inputs: np.ndarray
    expected_outputs: np.ndarray


def library_dir() -> Path:
    """The fxhls C++ layer library (templates/hls/layers/*.h)."""
    return Path(str(resources.files("fxhls") / "templates" / "hls" / "layers"))


def write_hls_project(graph: Graph, design: dict, out_dir, parallelism: ParallelismOptions | None = None,
                      test_inputs=None) -> HlsProject:
    """Write the HLS project of `graph` (a hardware graph: `lower_for_hardware`) for
    `design` (design.json's content: `fxhls.deploy.stream_interface`) into `out_dir`:
    firmware/ (top, types, layers, weights, the layer library), tb/ (testbench and the
    emulator's test vectors for `test_inputs`, default seeded random inputs),
    build_prj.tcl, Makefile, report/, and design.json: `design` with "source_sha256",
    the hash of what synthesis reads (new weights or clock, new hash)."""
    check_hardware_graph(graph)
    check_casts(graph)
    top = check_top_name(design["top"])
    board = design_board(design)
    safe, originals = safe_graph(graph)
    plan = plan_dataflow(safe)
    options = parallelism or ParallelismOptions()
    knobs = layer_knobs(plan.graph, options, originals)
    reuse = resolve_reuse(plan, board, originals, options, design["clock_mhz"], knobs)
    layers = [_layer(plan, stage, reuse.get(stage.name, 1), knobs.get(stage.name), options.target_fps)
              for stage in plan.stages]
    out = Path(out_dir)
    context = dict(top=top, model=design["name"], board=board, clock_mhz=design["clock_mhz"],
                   input=_converter(plan, design["input"], plan.input, plan.input_variable),
                   output=_converter(plan, design["output"], plan.output, plan.output_variable))
    _write_firmware(out / "firmware", plan, layers, originals, context)
    x = vectors.cast_inputs(design, vectors.random_inputs(design) if test_inputs is None else test_inputs)
    expected = vectors.expected_outputs(graph, x)
    _write_testbench(out, context, design, x, expected)
    period_ns = f"{1000.0 / design['clock_mhz']:.4g}"
    (out / "build_prj.tcl").write_text(render("hls/build_prj.tcl.j2", period_ns=period_ns, **context))
    (out / "Makefile").write_text(render("hls/Makefile.j2", ap_types=_ap_types(), cxxflags=Code(" ".join(FLAGS)), **context))
    summary = write_report(out / "report", plan, layers, originals, board, design)
    design = dict(design, source_sha256=_source_hash(out))
    (out / "design.json").write_text(json.dumps(design, indent=2) + "\n")
    return HlsProject(design, layers, summary, x, expected)


def _ap_types() -> str:
    """The Makefile's default AP_TYPES: the headers fxhls finds here, else Vitis HLS's."""
    try:
        return make_path(ap_types_include_dir())
    except ToolNotFoundError:
        return Code("$(XILINX_HLS)/include")


def _source_hash(out: Path) -> str:
    """sha256 of what synthesis reads: firmware/ and build_prj.tcl (part, clock)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in (out / "firmware").rglob("*") if p.is_file()) + [out / "build_prj.tcl"]:
        digest.update(f"{path.relative_to(out).as_posix()}\n{path.stat().st_size}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _layer(plan: Plan, stage: Stage, reuse: int, knob: LayerKnob | None, target_fps: float | None) -> Layer:
    if stage.node is None:
        beats = plan.streams[stage.tensor].beats
        return Layer(stage, 1, {"code": "", "call": stage_call("fxhls::fork", [beats]), "headers": ("stream.h",)})
    fold = knob.fold if knob is not None and kernel_kind(plan.graph, stage.node) in LANE_KERNELS else None
    context = LayerContext(plan.graph, stage.node, stage.name, reuse,
                           tuple(plan.streams[t] for t in stage.in_tensors), plan.streams[stage.tensor], fold)
    set_by = fold_set_by(knob, target_fps) if stage.node.op in FOLDING_OPS else ""
    return Layer(stage, reuse, layer_function(stage.node.op)(context), fold, set_by)


def _converter(plan: Plan, spec: dict, tensor: str, variable: str) -> dict:
    stream = plan.streams[tensor]
    if str(stream.type) != str(FixedType.parse(spec["type"])):
        raise ValueError(f"the design's stream type {spec['type']} is not the graph's {stream.type}")
    code_type = f"ap_{'' if stream.type.signed else 'u'}int<{stream.type.width}>"
    return dict(spec, beats=stream.beats, code_type=code_type, variable=variable)


def _write_firmware(folder: Path, plan: Plan, layers: list[Layer], originals: dict, context: dict) -> None:
    for sub in ("layers", "weights", "fxhls"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for header in sorted(library_dir().glob("*.h")):
        shutil.copyfile(header, folder / "fxhls" / header.name)
    emitted = [layer for layer in layers if layer.stage.node is not None]
    for layer in emitted:
        name, node = layer.stage.name, layer.stage.node
        for part, key, sub in (("configuration", "code", "layers"), ("constants", "weights", "weights")):
            if layer.code.get(key):
                (folder / sub / f"{name}.h").write_text(render(
                    "hls/firmware/layer.h.j2", layer=name, op=node.op, original=originals[node.name],
                    part=part, code=layer.code.get(key, "")))
    headers = sorted({"stream.h", *(h for layer in layers for h in layer.code["headers"])})
    (folder / "parameters.h").write_text(render(
        "hls/firmware/parameters.h.j2", headers=headers,
        layers=[{"name": layer.stage.name, "code": bool(layer.code["code"]), "weights": bool(layer.code.get("weights"))}
                for layer in emitted],
        **context))
    tensors = [dict(name=t, beats=s.beats, lanes=s.lanes, type=s.type) for t, s in plan.streams.items()]
    (folder / "types.h").write_text(render("hls/firmware/types.h.j2", tensors=tensors, **context))
    streams = [dict(variable=variable, pixel=f"fxhls_model::{tensor}_pixel", depth=depth)
               for variable, (tensor, depth) in plan.variables.items()]
    stages = [layer.code["call"](*layer.stage.inputs, *layer.stage.outputs) for layer in layers]
    top = context["top"]
    (folder / f"{top}.h").write_text(render("hls/firmware/top.h.j2", **context))
    (folder / f"{top}.cpp").write_text(render("hls/firmware/top.cpp.j2", streams=streams, stages=stages, **context))


def _write_testbench(out: Path, context: dict, design: dict, x: np.ndarray, y: np.ndarray) -> None:
    folder = out / "tb"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{context['top']}_tb.cpp").write_text(render("hls/tb/tb.cpp.j2", **context))
    for name, spec, values in (("input_words.txt", design["input"], x), ("expected_words.txt", design["output"], y)):
        write_words(folder / name, vectors.to_words(spec, values).reshape(-1))
