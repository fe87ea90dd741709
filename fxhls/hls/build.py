"""`fxhls build`: an ONNX model to a complete build directory,
written atomically.

The project is written into a fresh folder beside DIR, then renamed to DIR: a failed
build leaves DIR as it was. An existing DIR is replaced only when fxhls wrote it (it
holds the marker file) or when forced. What the vendor tools made in the old DIR is
carried over: the bitstream files in deploy/ (the driver checks their design hash),
and the Vitis HLS project and IP export when the firmware is unchanged.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fxhls.board import Board, load_board
from fxhls.deploy import stream_interface, write_deploy
from fxhls.deploy.backend import choose_backend
from fxhls.ir import lower_for_hardware
from fxhls.ir.passes import split_host_edges
from fxhls.model_config import ModelConfig
from fxhls.rtl.writer import write_rtl_unless_refused
from fxhls.staging import replace_dir, staging_dir

from . import vectors
from .parallelism import ParallelismOptions, rtl_parallelism
from .writer import HlsProject, write_hls_project

MARKER = ".fxhls-build"
DEFAULT_ROOT = Path("hls_projects")


def build_project(model, board: Board | str, out=None, clock_mhz: float | None = None,
                  parallelism: ParallelismOptions | None = None, force: bool = False,
                  test_inputs=None, test_labels=None, backend: str | None = None,
                  types: ModelConfig | None = None) -> tuple[Path, HlsProject]:
    """Build `model` (an ONNX file: fxhls or QONNX) for `board` into `out` (default
    hls_projects/<model name>/): design.json, firmware/, tb/, build_prj.tcl, Makefile,
    report/, rtl/ (`fxhls.rtl.writer.write_rtl`, or why it refused the model), deploy/. `test_inputs` (default:
    seeded random inputs) become the test vectors of the testbench and of the deploy
    package; `test_labels`, their class indices, let the deploy notebook show accuracy.
    `backend` ("hls", "rtl", None: `fxhls.deploy.backend.choose_backend` chooses) is the
    IP the deploy package puts on the board; design.json records it. `types` (a float
    model's types, and reuse factors or SIMD x PE per layer under `parallelism`'s) is saved as
    config.yaml, which `--config` reads to repeat the build. Returns the build directory
    and what `write_hls_project` wrote there."""
    from fxhls.onnx import load_onnx

    model = Path(model)
    if not model.is_file():
        raise ValueError(f"model file {model} not found")
    board = load_board(board) if isinstance(board, str) else board
    target = Path(out) if out is not None else DEFAULT_ROOT / model.stem
    check_target(target, force)
    graph = load_onnx(model, config=types)
    if types is not None:
        layers = [node.name for node in graph.nodes if node.op in ("Conv", "Gemm", "MatMul")]
        types, parallelism = _with_knobs(types, parallelism, layers)
    host = split_host_edges(graph)
    graph = lower_for_hardware(graph)
    clock = board.default_clock_mhz if clock_mhz is None else clock_mhz
    design = stream_interface(graph, model.stem, board, clock)
    if any(host.values()):
        design["host"] = host
    x = vectors.cast_inputs(design, vectors.random_inputs(design)) if test_inputs is None else \
        vectors.host_inputs(design, test_inputs)
    choose_backend(backend, None)  # an unknown name, before any work
    rtl_options = rtl_parallelism(graph, parallelism or ParallelismOptions())  # bad knobs refused here
    staging = staging_dir(target)
    try:
        refusal = write_rtl_unless_refused(graph, design, staging, rtl_options)
        design = {**design, "backend": choose_backend(backend, refusal)[0]}
        project = write_hls_project(graph, design, staging, parallelism, x)
        write_deploy(project.design, board, staging, project.test_inputs, project.expected_outputs, labels=test_labels)
        if types is not None:
            (staging / "config.yaml").write_text(types.to_yaml())
        (staging / MARKER).write_text("written by fxhls build: `fxhls build` may replace this folder\n")
        if target.exists():
            _carry_over(target, staging, project.design)
        replace_dir(target, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target, project


def _with_knobs(types: ModelConfig, parallelism: ParallelismOptions | None,
                layers: list[str]) -> tuple[ModelConfig, ParallelismOptions]:
    """The config's knobs under the options' (an option's knob for a layer replaces the
    config's), and the config that records them all."""
    parallelism = parallelism or ParallelismOptions()
    reuse, simd_pe, set_by = types.knobs(layers)
    for name in (*parallelism.reuse, *parallelism.simd_pe):
        reuse.pop(name, None)
        simd_pe.pop(name, None)
    given = dict(parallelism.reuse)
    recorded = ModelConfig(types.input_type, types.default_type, given.pop("*", types.reuse),
                           {name: dict(entry) for name, entry in types.layers.items()}, types.source)
    for name, knob in [*given.items(), *parallelism.simd_pe.items()]:
        entry = recorded.layers.setdefault(name, {})
        for key in ("reuse", "simd", "pe"):
            entry.pop(key, None)
        entry.update({"reuse": knob} if name in given else dict(zip(("simd", "pe"), knob)))
    return recorded, ParallelismOptions({**reuse, **parallelism.reuse}, parallelism.dsp_budget, parallelism.target_fps,
                                        {**simd_pe, **parallelism.simd_pe}, {**set_by, **parallelism.set_by})


def check_target(target: Path, force: bool) -> None:
    """A ValueError unless `target` may be (re)written: absent, empty, written by fxhls
    build, or `force`."""
    if not target.exists():
        return
    if not target.is_dir():
        raise ValueError(f"{target} exists and is not a folder")
    if not force and not (target / MARKER).is_file() and any(target.iterdir()):
        raise ValueError(f"{target} exists and was not written by fxhls build; use --force to replace it")


def _carry_over(old: Path, new: Path, design: dict) -> None:
    top = design["top"]
    built = [old / "deploy" / f"{top}{suffix}" for suffix in (".bit", ".hwh", ".design_hash")]
    for path in built:
        if path.is_file():
            shutil.copy2(path, new / "deploy" / path.name)
    try:
        unchanged = json.loads((old / "design.json").read_text()).get("source_sha256") == design["source_sha256"]
    except (OSError, ValueError):
        unchanged = False
    if unchanged:
        for name in ("ip", f"{top}_prj"):
            if (old / name).is_dir():
                shutil.move(str(old / name), str(new / name))
