"""The deploy package's driver and notebook with FXHLS_TARGET=sim against the HLS C simulation:
the emulator's outputs, bit for bit, through the same packing, file protocol and unpacking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from deploy_designs import load_driver, run_notebook
from qfx_models import qfx_zoo

from fxhls.deploy import stream_interface, write_deploy
from fxhls.hls import vectors
from fxhls.hls.writer import write_hls_project
from fxhls.ir import lower_for_hardware
from fxhls.onnx import export_onnx, load_onnx
from fxhls.sim.csim import compile_csim

MODELS = {name: (model, shape) for name, model, shape in qfx_zoo() if name in ("mlp", "cnn")}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """build(name), once per model for this module."""
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = build(name, tmp_path_factory.mktemp(name))
        return cache[name]

    return get


def build(name: str, folder):
    """A build directory as `fxhls build` writes it (HLS project and deploy package) and its csim."""
    model, shape = MODELS[name]
    torch.manual_seed(1)
    x = torch.randn(24, *shape) * 2
    export_onnx(model, x[:2], folder / f"{name}.onnx")
    graph = lower_for_hardware(load_onnx(folder / f"{name}.onnx"))
    design = stream_interface(graph, name, "ultra96v2", 250)
    x = vectors.cast_inputs(design, x.numpy())
    project = write_hls_project(graph, design, folder / "build", test_inputs=x)
    deploy = write_deploy(project.design, "ultra96v2", folder / "build", x, vectors.expected_outputs(graph, x),
                          labels=vectors.expected_outputs(graph, x).argmax(axis=1))
    return deploy, compile_csim(folder / "build")


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_the_driver_against_the_csim_returns_the_emulators_outputs(name, built, monkeypatch):
    deploy, csim = built(name)
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.setenv("FXHLS_SIM_COMMAND", str(csim))
    accelerator = load_driver(deploy).Accelerator()
    x, expected = np.load(deploy / "test_inputs.npy"), np.load(deploy / "expected_outputs.npy")
    y = accelerator.predict(x)
    assert y.shape == expected.shape
    assert int((y != expected).sum()) == 0


def test_the_notebook_against_the_csim(built, monkeypatch):
    deploy, csim = built("cnn")
    text = run_notebook(deploy, monkeypatch, sim_command=str(csim))
    assert "0 of 72 output values differ from the emulator" in text
    assert "accuracy: 100.00% on 24 test inputs" in text
