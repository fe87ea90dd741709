"""The `fxhls` command teaches its use: `fxhls --help` lists the commands in the order of
the flow, each command's help has a description and an example, `python -m fxhls` runs it,
csim compares with the emulator like cosim, and --synth without Vitis HLS says what to do."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from fxhls.cli import _parser, main
from fxhls.emulation import emulate
from fxhls.onnx import export_onnx
from fxhls.qfx import QInput, QLinear, QReLU
from fxhls.sim.csim import run_csim

ROOT = Path(__file__).resolve().parents[1]
FLOW = ["tools", "selfcheck", "profile", "build", "emulate", "csim", "cosim", "report", "package", "cache"]


def _fxhls(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m fxhls ARGV` in a fresh process, this checkout first on the path."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "fxhls", *argv], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": path, **(env or {})})


def _mlp_onnx(path: Path, first_output_negated: bool = False) -> Path:
    """An MLP (16 -> 4), or the same with its first output's weights negated."""
    torch.manual_seed(0)
    model = nn.Sequential(QInput(), QLinear(16, 12), QReLU(), QLinear(12, 4))
    if first_output_negated:
        model[3].weight.data[0] *= -1
    export_onnx(model, torch.randn(2, 16), path)
    return path


def test_python_m_fxhls_lists_the_commands_in_the_order_of_the_flow():
    result = _fxhls("--help")
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^    (\w+) +\S", result.stdout, re.MULTILINE)
    assert listed == FLOW
    assert "fxhls build model.onnx --board ultra96v2" in result.stdout


@pytest.mark.parametrize("command", FLOW)
def test_every_command_has_a_description_and_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    usage, description = out.split("\n\n")[:2]
    assert usage.startswith(f"usage: fxhls {command}") and len(description.split()) >= 10
    example = out.split("\nexample:\n", 1)[1]
    assert example.startswith(f"  fxhls {command}") or f"\n  fxhls {command}" in example
    assert "--quiet" in out and "--verbose" in out


def test_every_command_the_parser_knows_is_in_the_flow():
    commands = next(action for action in _parser()._actions if action.dest == "command")
    assert list(commands.choices) == FLOW


@pytest.fixture(scope="module")
def mlp_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csim")
    model = _mlp_onnx(folder / "mlp.onnx")
    assert main(["build", str(model), "--board", "ultra96v2", "--out", str(folder / "out")]) == 0
    x = np.random.default_rng(0).normal(size=(40, 16)) * 3
    np.save(folder / "x.npy", x)
    return folder, model, x


def test_csim_with_its_model_finds_no_difference(mlp_build, capsys):
    folder, model, x = mlp_build
    capsys.readouterr()
    assert main(["csim", str(folder / "out"), "--input", str(folder / "x.npy"), "--model", str(model), "-q"]) == 0
    assert capsys.readouterr().out.strip() == f"0 of {40 * 4} output values differ from the emulator"


def test_csim_with_another_model_counts_the_differing_values(mlp_build, capsys):
    folder, _, x = mlp_build
    other = _mlp_onnx(folder / "other.onnx", first_output_negated=True)
    expected = int((run_csim(folder / "out", x) != emulate(other, x)).sum())
    assert 0 < expected <= 40  # the first output only
    capsys.readouterr()
    assert main(["csim", str(folder / "out"), "--input", str(folder / "x.npy"), "--model", str(other),
                 "--output", str(folder / "y.npy")]) == 1
    out = capsys.readouterr().out
    assert f"{expected} of {40 * 4} output values differ from the emulator" in out
    assert np.load(folder / "y.npy").shape == (40, 4)


def test_csim_without_output_or_model_says_what_to_give(mlp_build, capsys):
    folder, _, _ = mlp_build
    assert main(["csim", str(folder / "out"), "--input", str(folder / "x.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert "give --output Y.npy" in err and "\n" not in err


def test_synth_without_vitis_hls_fails_with_one_line_saying_what_to_do(mlp_build, tmp_path):
    folder, model, _ = mlp_build
    out = tmp_path / "out"
    result = _fxhls("build", str(model), "--board", "ultra96v2", "--out", str(out), "--synth",
                    env={"PATH": os.path.dirname(shutil.which("g++"))})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("fxhls build: error: vitis_hls is not on PATH")
    assert "install AMD Vitis HLS" in result.stderr and f"cd {out} && vitis_hls -f build_prj.tcl" in result.stderr
    assert (out / "build_prj.tcl").is_file()  # the project is there to copy to a machine with Vitis HLS
