"""A model the RTL backend refuses (every zoo model builds now, so the refusal is a
stand-in raised where the top is made; the README lists what it still refuses): `fxhls
build` succeeds with the HLS backend, its C simulation equals the emulator, and DIR/rtl/
says why there is no Verilog, which the RTL commands repeat."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch import nn

from fxhls.cli import main
from fxhls.emulation import emulate
from fxhls.onnx import export_onnx
from fxhls.qfx import QConv2d, QInput, QReLU
from fxhls.rtl.report import report_design
from fxhls.sim.csim import run_csim
from fxhls.sim.rtl_cosim import build_design

REASON = "node 'stand_in': a stand-in refusal"


@pytest.fixture
def refused_build(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise ValueError(REASON)

    monkeypatch.setattr("fxhls.rtl.writer._top", refuse)
    torch.manual_seed(0)
    model = nn.Sequential(QInput(), QConv2d(1, 2, 1, padding=1), QReLU()).eval()
    export_onnx(model, torch.randn(2, 1, 5, 5), tmp_path / "model.onnx")
    return tmp_path / "model.onnx", tmp_path / "build"


def test_build_succeeds_and_says_why_there_is_no_rtl(refused_build, capsys):
    model, out = refused_build
    assert main(["build", str(model), "--board", "ultra96v2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"no RTL in {out / 'rtl'}: the RTL backend refused this model" in printed
    assert re.search(REASON, printed)
    assert "deploy: backend hls: the RTL backend refuses this model" in printed
    assert not list((out / "rtl").glob("*.v"))
    assert re.search(REASON, (out / "rtl" / "REFUSED.txt").read_text())
    x = np.random.default_rng(0).normal(size=(50, 1, 5, 5)) * 2
    assert int((run_csim(out, x) != emulate(model, x)).sum()) == 0


def test_rtl_commands_repeat_the_refusal(refused_build, capsys):
    model, out = refused_build
    assert main(["build", str(model), "--board", "ultra96v2", "--out", str(out)]) == 0
    for command in (build_design, report_design):
        with pytest.raises(ValueError, match=f"refused this model .*{REASON}.*is complete"):
            command(out)
