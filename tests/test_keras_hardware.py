"""Keras-style channels-last CNNs and a PyTorch CNN with LeakyReLU, PReLU, Upsample and
ZeroPad2d, typed at conversion, through both backends: C simulation (g++, ap_fixed
headers) and RTL co-simulation (Verilator) equal the emulator with ==; the channels-last
input is the host's transpose (csim, cosim and the deploy driver take the model's NHWC
inputs); the emulator's top class is the float model's on nearly every sample."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rtl_cli import build_and_cosim
from fxhls.emulation import emulate
from fxhls.hls.build import build_project
from fxhls.model_config import model_config
from fxhls.sim.csim import compile_csim, run_csim
from float_models import export_torch, top_class_agreement, torch_float
from keras_models import CNN_INPUT, keras_cnn, torch_cnn

DEFAULT = "ap_fixed<16,6>"


def _build_and_csim(model, x, out):
    build, _ = build_project(model, "ultra96v2", out, types=model_config(default_type=DEFAULT))
    expected = emulate(model, x, default_type=DEFAULT)
    got = run_csim(build, x)
    assert got.shape == expected.shape and int((got != expected).sum()) == 0 and len(np.unique(expected)) > 20
    return build, expected


def test_keras_cnn_csim_equals_emulate(tmp_path):
    keras_cnn(tmp_path / "m.onnx", alpha=0.125)
    x = np.random.default_rng(0).normal(size=(200, *CNN_INPUT))
    build, _ = _build_and_csim(tmp_path / "m.onnx", x, tmp_path / "build")
    design = json.loads((build / "design.json").read_text())
    assert design["host"]["input_transpose"] == [0, 3, 1, 2] and design["input"]["shape"] == [2, 5, 5]
    assert "transposes each batch by `[0, 3, 1, 2]`" in (build / "report" / "host.md").read_text()
    layers = {path.stem: path.read_text() for path in (build / "firmware" / "layers").glob("*.h")}
    assert "term_t" in "".join(text for name, text in layers.items() if "leaky" in name)  # 0.125: shifts
    assert "slope_t" in "".join(text for name, text in layers.items() if "p_re_lu" in name)  # 0.1, 0.3: multipliers


def test_torch_cnn_csim_equals_emulate(tmp_path, capsys):
    module, shape = torch_cnn()
    export_torch(module, shape, tmp_path / "m.onnx")
    x = np.random.default_rng(1).normal(size=(200, *shape))
    _, expected = _build_and_csim(tmp_path / "m.onnx", x, tmp_path / "build")
    reference = torch_float(module, x)
    agreement, error = top_class_agreement(expected, reference), float(np.abs(expected - reference).max())
    with capsys.disabled():
        print(f"\nPyTorch ZeroPad2d/LeakyReLU/Upsample/PReLU CNN at {DEFAULT}: top class equal on {agreement:.1%}, "
              f"largest error {error:.4f}")
    assert agreement >= 0.95 and error < 0.1


def test_the_deploy_driver_transposes_a_channels_last_input(tmp_path, monkeypatch):
    """The board driver's run_model takes the model's NHWC batch (against the C simulation)."""
    from deploy_designs import load_driver

    keras_cnn(tmp_path / "m.onnx")
    out, _ = build_project(tmp_path / "m.onnx", "ultra96v2", tmp_path / "build",
                           types=model_config(default_type=DEFAULT))
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.setenv("FXHLS_SIM_COMMAND", str(compile_csim(out)))
    x = np.random.default_rng(2).normal(size=(6, *CNN_INPUT))
    got = load_driver(out / "deploy").Accelerator().run_model(x)
    assert int((got != emulate(tmp_path / "m.onnx", x, default_type=DEFAULT)).sum()) == 0


@pytest.mark.parametrize("model", ["keras", "torch"])
def test_rtl_cosim_equals_emulate(tmp_path, capsys, model):
    """fxhls's Verilog (fxhls_prelu by multiplier and by K-hot shift-add, fxhls_upsample,
    Conv padding from the folded Pad) under Verilator, random back-pressure too."""
    if model == "keras":
        keras_cnn(tmp_path / "m.onnx", alpha=0.125)
        x = np.random.default_rng(3).normal(size=(8, *CNN_INPUT))
    else:
        module, shape = torch_cnn()
        export_torch(module, shape, tmp_path / "m.onnx")
        x = np.random.default_rng(3).normal(size=(8, *shape))
    printed = build_and_cosim(tmp_path / "m.onnx", x, tmp_path / "build", capsys, "--default-type", DEFAULT)
    if model == "keras":  # LeakyReLU(0.125) by shifts, the PReLU's slopes by multipliers
        top = json.loads((tmp_path / "build" / "design.json").read_text())["top"]
        verilog = (tmp_path / "build" / "rtl" / f"{top}.v").read_text()
        assert "fxhls_prelu" in verilog and '.KIND("khot")' in verilog and '.KIND("mul")' in verilog
    outputs = 8 * (5 if model == "keras" else 10)
    assert f"0 of {outputs} output values differ" in printed
