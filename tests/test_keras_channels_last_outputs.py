"""A Keras segmentation-style model: a residual Add of channels-last tensors and a
channels-last (NHWC) output. The Transposes on both branches of the Add fold into one
after it, and the one that reaches the output becomes the host's transpose of the
output: the emulator and the folded hardware graph equal onnxruntime on the typed model
with ==, and C simulation, RTL co-simulation and the deploy driver equal the emulator."""

from __future__ import annotations

import json

import numpy as np

from rtl_cli import build_and_cosim
from fxhls.emulation import emulate
from fxhls.fixed import quantize
from fxhls.hls.build import build_project
from fxhls.ir import execute
from fxhls.model_config import model_config
from fxhls.sim.csim import compile_csim, run_csim
from keras_models import SEGMENTER_INPUT, keras_residual_segmenter
from onnx_runners import run_onnxruntime
from test_keras_layouts import NARROW, _hardware, _typed_for_onnxruntime

DEFAULT = "ap_fixed<16,6>"


def test_the_transposes_fold_and_equal_onnxruntime(tmp_path):
    keras_residual_segmenter(tmp_path / "m.onnx")
    config = model_config(default_type=NARROW)
    x = quantize(np.random.default_rng(0).normal(size=(64, *SEGMENTER_INPUT)) * 2, NARROW)
    wanted = run_onnxruntime(_typed_for_onnxruntime(tmp_path / "m.onnx", config), x)
    assert wanted.shape == (64, 6, 6, 2) and wanted.std() > 0
    assert int((emulate(tmp_path / "m.onnx", x, config=config) != wanted).sum()) == 0
    hardware, host = _hardware(tmp_path / "m.onnx", config)
    assert (host["input_transpose"], host["output_transpose"]) == ([0, 3, 1, 2], [0, 2, 3, 1])
    assert [n.op for n in hardware.nodes] == ["Quantize", "Conv", "Relu", "Conv", "Add", "Conv", "Relu"]
    assert hardware.tensor(hardware.outputs[0]).shape == (2, 6, 6)
    got = execute(hardware, x.transpose(host["input_transpose"]))[0].transpose(host["output_transpose"])
    assert int((got != wanted).sum()) == 0


def test_csim_cosim_and_the_driver_equal_emulate(tmp_path, capsys, monkeypatch):
    from deploy_designs import load_driver

    keras_residual_segmenter(tmp_path / "m.onnx")
    x = np.random.default_rng(1).normal(size=(50, *SEGMENTER_INPUT))
    expected = emulate(tmp_path / "m.onnx", x, default_type=DEFAULT)
    build, _ = build_project(tmp_path / "m.onnx", "ultra96v2", tmp_path / "hls",
                             types=model_config(default_type=DEFAULT))
    design = json.loads((build / "design.json").read_text())
    assert design["host"]["output_transpose"] == [0, 2, 3, 1] and design["output"]["shape"] == [2, 6, 6]
    assert "by `[0, 2, 3, 1]`" in (build / "report" / "host.md").read_text()
    got = run_csim(build, x)
    assert got.shape == expected.shape == (50, 6, 6, 2) and int((got != expected).sum()) == 0
    assert len(np.unique(expected)) > 100
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.setenv("FXHLS_SIM_COMMAND", str(compile_csim(build)))
    driven = load_driver(build / "deploy").Accelerator().run_model(x[:6])
    assert int((driven != expected[:6]).sum()) == 0
    printed = build_and_cosim(tmp_path / "m.onnx", x[:8], tmp_path / "rtl", capsys, "--default-type", DEFAULT)
    assert f"0 of {8 * 72} output values differ" in printed
