"""Float-scaled QONNX models end to end: `fxhls build`, then C simulation (the host's float
work around the generated C++) equals `fxhls emulate` bit for bit, and for the hand-built
models qonnx's executor too; the testbench's self-check passes on the hardware's part."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import onnx
import pytest
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model

from float_scaled_models import (BATCH, BREVITAS_DEFAULT, brevitas_default, cnn, finn_example,
                                 first_conv_on_the_float_input, mlp, residual_wide, trunc_pool)
from fxhls.emulation import emulate
from fxhls.hls.build import build_project
from fxhls.sim.csim import compile_csim, run_csim


def _csim_equals_emulate(model_path, x, out_dir) -> dict:
    out, _ = build_project(model_path, "ultra96v2", out_dir)
    got, expected = run_csim(out, x), emulate(model_path, x)
    assert got.shape == expected.shape and len(np.unique(expected)) > 4
    assert int((got != expected).sum()) == 0
    self_check = subprocess.run([str(compile_csim(out))], cwd=out / "tb", capture_output=True, text=True)
    assert self_check.returncode == 0, self_check.stderr
    assert " 0 of " in self_check.stdout
    return json.loads((out / "design.json").read_text())


@pytest.mark.parametrize("build,shape", [(mlp, (8,)), (cnn, (2, 4, 4)), (trunc_pool, (2, 4, 4))])
def test_hand_built_float_scaled_models_csim_equals_emulate_and_qonnx(build, shape, tmp_path):
    onnx.save(build(), tmp_path / "m.onnx")
    x = (np.random.default_rng(7).normal(size=(BATCH, *shape)) * 2).astype(np.float32)
    design = _csim_equals_emulate(tmp_path / "m.onnx", x, tmp_path / "build")
    assert design["host"]["head"] is not None and design["host"]["tail"] is not None
    host_report = (tmp_path / "build" / "report" / "host.md").read_text()
    assert "`q0`" in host_report and ("`centred`, `n`, `q0`" in host_report) == (build is mlp)
    wrapper = cleanup_model(ModelWrapper(str(tmp_path / "m.onnx")))
    expected = next(iter(execute_onnx(wrapper, {wrapper.graph.input[0].name: x}).values()))
    assert int((run_csim(tmp_path / "build", x) != expected).sum()) == 0


@pytest.mark.parametrize("name", BREVITAS_DEFAULT)
def test_brevitas_default_quantizers_csim_equals_emulate(name, tmp_path):
    """Float scales learned by calibration, per-channel weights, float biases and BatchNorm,
    a zero point: the hardware's codes and the host's float work (the last Gemm, in
    onnxruntime's order, named in the host report), equal to the emulator."""
    x = brevitas_default(name, tmp_path / "m.onnx", samples=8)
    design = _csim_equals_emulate(tmp_path / "m.onnx", x, tmp_path / "build")
    host_report = (tmp_path / "build" / "report" / "host.md").read_text()
    assert design["host"]["tail"]["chain"]["dense"]["node"] in host_report.replace("\\", "")
    assert "is a float32 MatMul whose sums round" in host_report


def test_finn_tfc_csim_equals_emulate(tmp_path):
    """FINN's binary TFC: its input scaled on the host (2x - 1, through a Flatten), bipolar
    thresholds in the hardware."""
    x = finn_example("tfc_1w1a", tmp_path / "m.onnx")
    design = _csim_equals_emulate(tmp_path / "m.onnx", x, tmp_path / "build")
    assert design["host"]["head"]["chain"]["steps"]


def test_float_scaled_mlp_rtl_cosim_equals_emulate(tmp_path):
    """The RTL top's MultiThreshold stage (its threshold table wider than one Verilog
    number literal) and the host's float work around it."""
    from fxhls.rtl.verilog import LITERAL_BITS
    from fxhls.sim.rtl_cosim import cosim_design

    onnx.save(mlp(), tmp_path / "m.onnx")
    out, _ = build_project(tmp_path / "m.onnx", "ultra96v2", tmp_path / "build")
    assert not (out / "rtl" / "REFUSED.txt").exists()
    assert f"{LITERAL_BITS}'h" in (out / "rtl" / "m.v").read_text()
    x = (np.random.default_rng(8).normal(size=(BATCH, 8)) * 2).astype(np.float32)
    y, summary = cosim_design(out, x, model=tmp_path / "m.onnx")
    assert summary["mismatches"] == 0 and len(np.unique(y)) > 4


def _cnn(path):
    onnx.save(cnn(), path)
    return (np.random.default_rng(9).normal(size=(BATCH, 2, 4, 4)) * 2).astype(np.float32)


def _brevitas_mlp(path):
    return brevitas_default("brevitas_mlp", path, samples=8)


@pytest.mark.parametrize("build", [_cnn, _brevitas_mlp])
def test_the_deploy_driver_runs_the_host_float_work_around_the_accelerator(build, tmp_path, monkeypatch):
    """The board driver's run_model against the C simulation (FXHLS_TARGET=sim): the host's
    input quantizer and float tail (brevitas_mlp's: its last Gemm in onnxruntime's order)."""
    from deploy_designs import load_driver

    x = build(tmp_path / "m.onnx")
    out, _ = build_project(tmp_path / "m.onnx", "ultra96v2", tmp_path / "build")
    tail = json.loads((out / "design.json").read_text())["host"]["tail"]
    assert ("dense" in tail["chain"]) == (build is _brevitas_mlp)
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.setenv("FXHLS_SIM_COMMAND", str(compile_csim(out)))
    accelerator = load_driver(out / "deploy").Accelerator()
    expected = emulate(tmp_path / "m.onnx", x)
    assert len(np.unique(expected)) > 4
    assert int((accelerator.run_model(x) != expected).sum()) == 0


def test_a_first_conv_on_the_float_input_is_the_host_head_in_csim_and_the_driver(tmp_path, monkeypatch):
    """The host head computes the first Conv (and its BatchNorm, ReLU, Quant) from the
    model's float input; the hardware takes its codes (8, 10, 10). C simulation and the
    driver (simulation target) equal the emulator, and the host report names the Conv."""
    from deploy_designs import load_driver

    onnx.save(first_conv_on_the_float_input(), tmp_path / "m.onnx")
    x = (np.random.default_rng(8).normal(size=(4, 3, 10, 10)) * 2).astype(np.float32)
    design = _csim_equals_emulate(tmp_path / "m.onnx", x, tmp_path / "build")
    assert design["host"]["head"]["input_shape"] == [3, 10, 10] and design["input"]["shape"] == [8, 10, 10]
    host_report = (tmp_path / "build" / "report" / "host.md").read_text().replace("\\", "")
    assert "`centre`, `first_conv`, `bn`, `relu`, `a1`" in host_report and "onnxruntime_conv" in host_report
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.setenv("FXHLS_SIM_COMMAND", str(compile_csim(tmp_path / "build")))
    accelerator = load_driver(tmp_path / "build" / "deploy").Accelerator()
    assert int((accelerator.run_model(x) != emulate(tmp_path / "m.onnx", x)).sum()) == 0


def test_a_residual_add_of_two_scales_and_a_16_bit_mul_shift_csim_and_cosim_equal_emulate(tmp_path):
    """The operands' float32 values as tables, their exact sum, thresholds, and a 16-bit
    multiply-and-shift (HLS `mul_shift.h`, RTL `fxhls_mul_shift.v`); the HLS report says
    which requantization each layer got and its estimated cost."""
    from fxhls.sim.rtl_cosim import cosim_design

    onnx.save(residual_wide(), tmp_path / "m.onnx")
    x = (np.random.default_rng(10).normal(size=(BATCH, 8)) * 2).astype(np.float32)
    _csim_equals_emulate(tmp_path / "m.onnx", x, tmp_path / "build")
    report = (tmp_path / "build" / "report" / "layers.md").read_text().replace("\\", "")  # markdown escapes
    assert "multiply-and-shift, a 5-bit multiplier, shift 4" in report and "1 DSP per lane" in report
    assert "thresholds, 255 per channel: about" in report
    y, summary = cosim_design(tmp_path / "build", x, model=tmp_path / "m.onnx")
    assert summary["mismatches"] == 0 and len(np.unique(y)) > 40
