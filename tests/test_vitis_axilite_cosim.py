"""`fxhls cosim` of a Vitis HLS export whose control is the AXI4-Lite slave `s_axi_control`
(the export of fxhls's C++ top, `#pragma HLS INTERFACE s_axilite port=return`): a build with
backend hls whose ip/hdl/verilog holds a stand-in for Vitis's Verilog (tests/rtl/
vitis_axilite_wrapper.v.j2 and vitis_control_s_axi.v.j2: Vitis's ports and register map
around fxhls's generated top, one sample per call, streaming only while a call runs). Its
outputs equal `fxhls emulate` with ==; the bench writes and reads the control register as
the deploy driver does; a stand-in with a broken handshake fails; the deploy driver's own
simulator runs the export when the RTL backend refused the model."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
import torch
from deploy_designs import load_driver
from qfx_models import qfx_zoo
from vitis_stand_in import copy_renamed_top, render

from fxhls.cli import main
from fxhls.deploy.transports import AP_CTRL, AP_DONE, AP_IDLE, AP_START, AP_START_AUTO_RESTART, AUTO_RESTART
from fxhls.emulation import emulate
from fxhls.hls import vectors
from fxhls.onnx import export_onnx
from fxhls.rtl.sources import write_refusal
from fxhls.sim.control_register import RegisterAccess, check_control
from fxhls.sim.rtl_cosim import stream_words

MODEL = "khot"  # the smallest Verilator build of the QFX zoo
SAMPLES = 6


def write_export(build, export, defect: str | None = None) -> None:
    """The stand-in for the Vitis HLS export of `build`'s top in `export` (`defect`: see
    tests/rtl/vitis_control_s_axi.v.j2)."""
    design = json.loads((build / "design.json").read_text())
    top, inner = copy_renamed_top(build, export)
    (export / f"{top}.v").write_text(render("vitis_axilite_wrapper.v.j2", top=top, inner=inner,
                                            in_words=design["input"]["words"], out_words=design["output"]["words"]))
    (export / f"{top}_control_s_axi.v").write_text(render("vitis_control_s_axi.v.j2", top=top, defect=defect))


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    """model.onnx, x.npy and build/ (backend hls) with the stand-in export in build/ip/hdl/verilog."""
    folder = tmp_path_factory.mktemp("vitis_axilite_cosim")
    _, model, shape = next(entry for entry in qfx_zoo() if entry[0] == MODEL)
    export_onnx(model.eval(), torch.randn(2, *shape), folder / "model.onnx")
    np.save(folder / "x.npy", np.random.default_rng(7).normal(size=(SAMPLES, *shape)) * 2)
    out = folder / "build"
    assert main(["build", str(folder / "model.onnx"), "--board", "ultra96v2", "--backend", "hls", "--out", str(out)]) == 0
    write_export(out, out / "ip" / "hdl" / "verilog")
    return folder


def input_words(build_dir) -> np.ndarray:
    design = json.loads((build_dir / "build" / "design.json").read_text())
    codes = vectors.host_inputs(design, np.load(build_dir / "x.npy"))
    return vectors.to_words(design["input"], codes).reshape(-1)


@pytest.mark.parametrize("pause", [0.3, 0.6])
def test_cosim_of_the_axilite_export_equals_the_emulator(build_dir, pause, capsys):
    model, x, out = build_dir / "model.onnx", build_dir / "x.npy", build_dir / "build"
    assert main(["emulate", str(model), "--input", str(x), "--output", str(build_dir / "emulated.npy")]) == 0
    assert main(["cosim", str(out), "--input", str(x), "--output", str(build_dir / "cosim.npy"),
                 "--model", str(model), "--pause", str(pause)]) == 0
    assert "co-simulated the Vitis HLS export of the C++" in capsys.readouterr().out
    emulated, cosim = np.load(build_dir / "emulated.npy"), np.load(build_dir / "cosim.npy")
    assert cosim.shape == emulated.shape == (SAMPLES, 4)
    assert int((cosim != emulated).sum()) == 0
    summary = json.loads((out / "report" / "cosim.json").read_text())
    assert summary["mismatches"] == 0 and summary["samples"] == SAMPLES
    assert summary["control"] == "s_axilite" and "ip/hdl/verilog" in summary["measured"]
    assert summary["ap_done_reads"] == SAMPLES  # one call per sample, each ended by a read of ap_done
    assert summary["ap_done_cycles"] == 0  # no ap_done port


def test_the_timing_is_that_of_the_wrapped_verilog(build_dir, capsys):
    """Started with auto-restart, the stand-in streams as fxhls's Verilog inside it does:
    the same latency and interval as `fxhls cosim --rtl fxhls`."""
    x, out = build_dir / "x.npy", build_dir / "build"
    timing = {}
    for rtl in ("hls", "fxhls"):
        assert main(["cosim", str(out), "--input", str(x), "--rtl", rtl]) == 0
        timing[rtl] = json.loads((out / "report" / "cosim.json").read_text())
    capsys.readouterr()
    assert timing["fxhls"]["control"] == "none" and timing["fxhls"]["ap_done_reads"] == 0
    for key in ("latency_cycles", "interval_cycles", "fps"):
        assert timing["hls"][key] == timing["fxhls"][key] > 0
    assert timing["hls"]["cycles_per_inference"] >= timing["hls"]["interval_cycles"]


def test_the_bench_starts_the_export_as_the_driver_does(build_dir):
    """One write of AP_START_AUTO_RESTART (what the driver writes on the board,
    tests/test_deploy_driver.py), after which the words flow; the register read back."""
    run = stream_words(build_dir / "build", input_words(build_dir), pause=0.3, seed=2)
    assert run.control == "s_axilite"
    writes = [access for access in run.registers if access.write]
    assert [(access.offset, access.value) for access in writes] == [(AP_CTRL, AP_START_AUTO_RESTART)]
    assert run.in_cycles[0] > writes[0].began  # no word before the start
    reads = [access.value for access in run.registers if not access.write]
    assert reads[0] == AP_IDLE
    assert reads[1] & (AP_START | AUTO_RESTART | AP_DONE) == AP_START | AUTO_RESTART
    assert reads[2] & (AP_START | AUTO_RESTART | AP_IDLE) == AP_START | AUTO_RESTART  # restarted, waiting for words
    assert run.registers[-1].began > run.out_cycles[-1]


def test_one_call_per_sample(build_dir):
    """CALLS N: each call started by a write of ap_start, its sample's words taken after it,
    its outputs out before the read that shows its ap_done; that read clears it."""
    design = json.loads((build_dir / "build" / "design.json").read_text())
    per_in, per_out = design["input"]["words"], design["output"]["words"]
    run = stream_words(build_dir / "build", input_words(build_dir), pause=0.5, seed=3, calls=SAMPLES)
    assert run.done_reads == SAMPLES
    starts = [access.began for access in run.registers if access.write]
    dones = [access.ended for access in run.registers if not access.write and access.value & AP_DONE]
    assert len(starts) == len(dones) == SAMPLES
    for call in range(SAMPLES):
        assert starts[call] < run.in_cycles[call * per_in]
        assert run.out_cycles[(call + 1) * per_out - 1] < dones[call]
        if call + 1 < SAMPLES:
            assert dones[call] < starts[call + 1] < run.in_cycles[(call + 1) * per_in]
    assert run.registers[-1].value & (AP_DONE | AP_IDLE | AP_START) == AP_IDLE


@pytest.mark.parametrize("defect, message", [
    ("ap_start ignored", "outputs incomplete"),
    ("no auto-restart", "outputs incomplete"),
    ("ap_done not cleared on read", "6 calls, but 7 reads of AP_CTRL showed ap_done"),
])
def test_a_broken_handshake_fails(build_dir, tmp_path, defect, message, capsys):
    """The same stand-in with one defect in its control slave: `fxhls cosim` fails, saying how."""
    out = build_dir / "build"
    broken = tmp_path / "broken"
    shutil.copytree(out, broken, ignore=shutil.ignore_patterns("ip", "*_prj", "report"))
    write_export(out, broken / "ip" / "hdl" / "verilog", defect)
    assert main(["cosim", str(broken), "--input", str(build_dir / "x.npy")]) == 2
    assert re.search(f"fxhls cosim: error: .*{message}", capsys.readouterr().err)


def test_the_driver_simulates_the_export_of_a_model_the_rtl_refused(build_dir, tmp_path, monkeypatch):
    """FXHLS_TARGET=sim alone, in DIR/deploy of a build whose RTL the backend refused: the
    build's simulator runs the Vitis HLS export, the design the package puts on the board."""
    refused = tmp_path / "refused"
    shutil.copytree(build_dir / "build", refused, ignore=shutil.ignore_patterns("report"))
    write_refusal(refused, "node 'stand_in': a stand-in refusal")
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.delenv("FXHLS_SIM_COMMAND", raising=False)
    x = np.load(build_dir / "x.npy")
    y = load_driver(refused / "deploy").Accelerator().run_model(x)
    assert int((y != emulate(build_dir / "model.onnx", x)).sum()) == 0
    shutil.rmtree(refused / "ip")
    with pytest.raises(ValueError, match="no Verilog in .*the RTL backend refused this model .*stand-in refusal"):
        load_driver(refused / "deploy").Accelerator()


def access(value: int, write: bool = False) -> RegisterAccess:
    return RegisterAccess(0, 0, write, AP_CTRL, value)


def test_check_control_of_a_run_started_with_auto_restart():
    good = [access(AP_IDLE), access(AP_START_AUTO_RESTART, True), access(AP_START | AUTO_RESTART),
            access(AP_START | AUTO_RESTART)]
    assert check_control(good, 0) == 0
    for bad, message in [
        ([access(0)] + good[1:], "reads 0x0 after reset: expected bits 0x4 set and 0x3 clear"),
        (good[:2] + [access(AUTO_RESTART)] + good[3:], "reads 0x80 after the write of 0x81"),
        (good[:3] + [access(AUTO_RESTART | AP_IDLE)], "after the last output .auto-restart keeps ap_start"),
        (good[:1] + [access(AP_START, True)] + good[2:], r"wrote AP_CTRL \[0x1\] and read it 3 times"),
        ([], "read no AXI-Lite control register"),
    ]:
        with pytest.raises(RuntimeError, match=message):
            check_control(bad, 0)


def test_check_control_of_a_run_of_calls():
    good = [access(AP_IDLE)]
    for _ in range(3):
        good += [access(AP_START, True), access(AP_START), access(AP_DONE | AP_IDLE)]
    good += [access(AP_IDLE)]
    assert check_control(good, 3) == 3
    for bad, message in [
        (good[:-2] + good[-1:], "3 calls, but 2 reads of AP_CTRL showed ap_done"),
        (good[:-1] + [access(AP_DONE | AP_IDLE)], "3 calls, but 4 reads"),
        (good[:-1] + [access(AP_START | AP_IDLE)], "after the last call's ap_done was read"),
        (good[:1] + good[2:], r"wrote AP_CTRL \[0x1, 0x1\], expected 3 writes of ap_start"),
    ]:
        with pytest.raises(RuntimeError, match=message):
            check_control(bad, 3)
