"""`fxhls cosim` of a Vitis HLS export: a build with backend hls whose
<top>_prj/solution1/impl/verilog holds a stand-in for Vitis's Verilog (tests/rtl/
vitis_port_wrapper.v.j2: Vitis's ports and ap_ctrl_hs handshake around fxhls's generated
top, streaming only while ap_start is high) equals `fxhls emulate` with ==, and says
which design it measured."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from qfx_models import qfx_zoo
from vitis_stand_in import copy_renamed_top, render

from fxhls.cli import main
from fxhls.onnx import export_onnx
from fxhls.rtl.sources import cosim_sources, hls_export_sources

MODEL = "khot"  # the smallest Verilator build of the QFX zoo


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    """model.onnx, x.npy and build/ (backend hls) with the stand-in export."""
    folder = tmp_path_factory.mktemp("vitis_port_cosim")
    _, model, shape = next(entry for entry in qfx_zoo() if entry[0] == MODEL)
    export_onnx(model.eval(), torch.randn(2, *shape), folder / "model.onnx")
    np.save(folder / "x.npy", np.random.default_rng(5).normal(size=(6, *shape)) * 2)
    out = folder / "build"
    assert main(["build", str(folder / "model.onnx"), "--board", "ultra96v2", "--backend", "hls", "--out", str(out)]) == 0
    top = json.loads((out / "design.json").read_text())["top"]
    export = out / f"{top}_prj" / "solution1" / "impl" / "verilog"
    top, inner = copy_renamed_top(out, export)
    (export / f"{top}.v").write_text(render("vitis_port_wrapper.v.j2", top=top, inner=inner))
    return folder


def test_cosim_of_the_vitis_export_equals_the_emulator(build_dir, capsys):
    model, x, out = build_dir / "model.onnx", build_dir / "x.npy", build_dir / "build"
    assert main(["emulate", str(model), "--input", str(x), "--output", str(build_dir / "emulated.npy")]) == 0
    assert main(["cosim", str(out), "--input", str(x), "--output", str(build_dir / "cosim.npy"),
                 "--model", str(model)]) == 0
    assert "co-simulated the Vitis HLS export of the C++" in capsys.readouterr().out
    emulated, cosim = np.load(build_dir / "emulated.npy"), np.load(build_dir / "cosim.npy")
    assert cosim.shape == emulated.shape == (6, 4)
    assert int((cosim != emulated).sum()) == 0
    summary = json.loads((out / "report" / "cosim.json").read_text())
    assert summary["mismatches"] == 0 and summary["samples"] == 6
    assert summary["ap_done_cycles"] == 1  # one batch, one TLAST, one call done
    assert summary["control"] == "ap_ctrl_hs" and summary["ap_done_reads"] == 0
    assert "impl/verilog" in summary["measured"]


def test_rtl_fxhls_measures_the_fxhls_verilog(build_dir):
    out = build_dir / "build"
    design = json.loads((out / "design.json").read_text())
    sources, measured, vitis_export = cosim_sources(out, design, "fxhls")
    assert not vitis_export
    assert sources == sorted((out / "rtl").glob("*.v"))
    assert measured.startswith("fxhls's Verilog") and "not the deployed design (backend hls)" in measured


def test_the_ip_copy_comes_first(build_dir, tmp_path):
    """build_prj.tcl copies the exported IP to DIR/ip: its hdl/verilog is what goes on the board."""
    out = build_dir / "build"
    top = json.loads((out / "design.json").read_text())["top"]
    assert hls_export_sources(out, top)[1] == out / f"{top}_prj" / "solution1" / "impl" / "verilog"
    (tmp_path / "ip" / "hdl" / "verilog").mkdir(parents=True)
    (tmp_path / "ip" / "hdl" / "verilog" / f"{top}.v").write_text(f"module {top}; endmodule\n")
    assert hls_export_sources(tmp_path, top) == ([tmp_path / "ip" / "hdl" / "verilog" / f"{top}.v"],
                                                 tmp_path / "ip" / "hdl" / "verilog")
