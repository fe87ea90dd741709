"""`fxhls report`'s line comparing the co-simulated interval with the RTL's estimate
(the slowest stage of DIR/rtl/stages.json): within 5% it agrees, beyond it says why."""

from __future__ import annotations

import json

import numpy as np
import torch
from qfx_models import qfx_zoo

from fxhls.cli import main
from fxhls.onnx import export_onnx
from fxhls.rtl.estimate_check import estimate_comparison

STAGES = [{"stage": "top_0_conv", "clocks": 100}, {"stage": "top_1_relu", "clocks": 40}]


def _design(words_in: int, words_out: int) -> dict:
    return {"input": {"words": words_in}, "output": {"words": words_out}}


def _timing(interval: float, measured: str = "fxhls's Verilog (d/rtl), the deployed design") -> dict:
    return {"interval_cycles": interval, "measured": measured}


def test_within_five_percent_agrees():
    line = estimate_comparison(_design(10, 1), STAGES, _timing(104.0))
    assert line == ("Estimate: 100 clocks per sample (stage top_0_conv), co-simulated interval 104: +4.0%, "
                    "within 5%.")


def test_the_converters_are_named_when_they_set_the_pace():
    line = estimate_comparison(_design(120, 1), STAGES, _timing(120.0))
    assert "+20.0%, over 5%: the stream converters move 120 input and 1 output words per sample" in line


def test_clocks_beyond_every_estimate_are_counted():
    line = estimate_comparison(_design(10, 1), STAGES, _timing(130.0))
    assert "+30.0%, over 5%: 30 clocks per sample are in no stage's estimate nor the converters' 10 words" in line
    line = estimate_comparison(_design(110, 1), STAGES, _timing(130.0))
    assert "the stream converters move 110 words per sample, more than the estimate, and 20 clocks" in line


def test_no_line_without_cosim_or_stages_and_none_for_the_hls_export():
    assert estimate_comparison(_design(10, 1), STAGES, None) is None
    assert estimate_comparison(_design(10, 1), [], _timing(100.0)) is None
    line = estimate_comparison(_design(10, 1), STAGES, _timing(900.0, "the Vitis HLS export of the C++ (d/ip)"))
    assert line.startswith("Estimate: not compared; the co-simulation measured the Vitis HLS export")


def test_fxhls_report_of_a_small_build_compares_its_cosim_with_its_estimate(tmp_path, capsys):
    _, model, shape = next(entry for entry in qfx_zoo() if entry[0] == "khot")
    export_onnx(model.eval(), torch.randn(2, *shape), tmp_path / "model.onnx")
    np.save(tmp_path / "x.npy", np.random.default_rng(3).normal(size=(8, *shape)) * 2)
    out = tmp_path / "build"
    assert main(["build", str(tmp_path / "model.onnx"), "--board", "ultra96v2", "--backend", "rtl", "--out", str(out)]) == 0
    assert main(["cosim", str(out), "--input", str(tmp_path / "x.npy")]) == 0
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    printed = capsys.readouterr().out
    interval = json.loads((out / "report" / "cosim.json").read_text())["interval_cycles"]
    stages = json.loads((out / "rtl" / "stages.json").read_text())["stages"]
    estimate = max(row["clocks"] for row in stages)
    lines = [line for line in printed.splitlines() if line.startswith("Estimate: ")]
    assert len(lines) == 1
    assert lines[0].startswith(f"Estimate: {estimate} clocks per sample (stage ")
    assert f"co-simulated interval {interval:g}: {(interval - estimate) / estimate:+.1%}" in lines[0]
    assert lines[0].endswith("within 5%.") or ", over 5%: " in lines[0]
    saved = json.loads((out / "report" / "resources.json").read_text())
    assert saved["estimate"] == lines[0]
    assert lines[0] in (out / "report" / "resources.md").read_text()
