"""Build directories as `fxhls build` writes them (HLS project, RTL, deploy package) for
two models of the QFX zoo, for the deploy tests against the real simulators."""

from __future__ import annotations

from pathlib import Path

import torch
from qfx_models import qfx_zoo

from fxhls.deploy import stream_interface, write_deploy
from fxhls.hls import vectors
from fxhls.hls.writer import write_hls_project
from fxhls.ir import lower_for_hardware
from fxhls.onnx import export_onnx, load_onnx
from fxhls.rtl.writer import write_rtl

MODELS = {name: (model, shape) for name, model, shape in qfx_zoo() if name in ("mlp", "cnn")}


def build(name: str, folder: Path) -> Path:
    """folder/build for the zoo model `name` with 24 test inputs (labels: the emulator's
    argmax); returns its deploy folder."""
    model, shape = MODELS[name]
    torch.manual_seed(1)
    x = torch.randn(24, *shape) * 2
    export_onnx(model, x[:2], folder / f"{name}.onnx")
    graph = lower_for_hardware(load_onnx(folder / f"{name}.onnx"))
    design = stream_interface(graph, name, "ultra96v2", 250)
    x = vectors.cast_inputs(design, x.numpy())
    project = write_hls_project(graph, design, folder / "build", test_inputs=x)
    write_rtl(graph, project.design, folder / "build")
    expected = vectors.expected_outputs(graph, x)
    return write_deploy(project.design, "ultra96v2", folder / "build", x, expected, labels=expected.argmax(axis=1))
