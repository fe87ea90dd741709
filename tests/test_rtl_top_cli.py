"""Three-way equality through the command line: `fxhls emulate` == `fxhls csim` ==
`fxhls cosim` on the build directory `fxhls build` writes (its rtl/ from
fxhls.rtl.writer), with ==; and the RTL as the deploy driver's simulator (its file
protocol: `python -m fxhls.sim.rtl_cosim DIR in_words.txt out_words.txt`)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from qfx_models import qfx_zoo

from fxhls.cli import main
from fxhls.deploy.transports import read_words
from fxhls.onnx import export_onnx

MODEL = "khot"  # K-hot dense layers and a K-hot BatchNorm: the smallest Verilator build


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rtl_top_cli")
    _, model, shape = next(entry for entry in qfx_zoo() if entry[0] == MODEL)
    export_onnx(model.eval(), torch.randn(2, *shape), folder / "model.onnx")
    np.save(folder / "x.npy", np.random.default_rng(3).normal(size=(5, *shape)) * 2)
    assert main(["build", str(folder / "model.onnx"), "--board", "ultra96v2", "--out", str(folder / "build")]) == 0
    return folder


def test_emulate_csim_and_cosim_agree_bit_for_bit(build_dir, capsys):
    model, x, out = build_dir / "model.onnx", build_dir / "x.npy", build_dir / "build"
    assert main(["emulate", str(model), "--input", str(x), "--output", str(build_dir / "emulated.npy")]) == 0
    assert main(["csim", str(out), "--input", str(x), "--output", str(build_dir / "csim.npy")]) == 0
    assert main(["cosim", str(out), "--input", str(x), "--output", str(build_dir / "cosim.npy"),
                 "--model", str(model)]) == 0
    emulated, csim, cosim = (np.load(build_dir / f"{name}.npy") for name in ("emulated", "csim", "cosim"))
    assert emulated.shape == csim.shape == cosim.shape == (5, 4)
    assert int((csim != emulated).sum()) == 0
    assert int((cosim != emulated).sum()) == 0
    report = json.loads((out / "report" / "cosim.json").read_text())
    assert report["mismatches"] == 0 and report["samples"] == 5
    assert report["fps"] == pytest.approx(250e6 / report["interval_cycles"])


def test_the_rtl_speaks_the_simulator_file_protocol(build_dir, tmp_path):
    out = build_dir / "build"
    result = subprocess.run([sys.executable, "-m", "fxhls.sim.rtl_cosim", str(out), str(out / "tb" / "input_words.txt"),
                             str(tmp_path / "out_words.txt")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    got, expected = read_words(tmp_path / "out_words.txt"), read_words(out / "tb" / "expected_words.txt")
    assert len(got) == len(expected) and int((got != expected).sum()) == 0
