"""Progress of long steps: a tqdm bar on a terminal, a line at the start and one at the end
in a log, nothing when quiet (the default for library calls), commands with --verbose."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fxhls import progress
from fxhls.cli import main
from fxhls.onnx import export_onnx
from fxhls.sim.csim import run_csim
from qfx_models import qfx_zoo


@pytest.fixture(scope="module")
def mlp_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("progress")
    _, model, shape = next(entry for entry in qfx_zoo() if entry[0] == "mlp")
    export_onnx(model, torch.randn(2, *shape), folder / "mlp.onnx")
    assert main(["build", str(folder / "mlp.onnx"), "--board", "ultra96v2", "--out", str(folder / "out"), "-q"]) == 0
    run_csim(folder / "out", np.zeros((1, 16)))  # compiled now: the tests below see the sample steps only
    return folder


@pytest.fixture
def level():
    previous = progress.verbosity()
    yield progress.set_verbosity
    progress.set_verbosity(previous)


def test_library_calls_are_quiet_by_default(mlp_build, capsys):
    assert progress.verbosity() == progress.QUIET
    run_csim(mlp_build / "out", np.ones((300, 16)))
    assert capsys.readouterr().err == ""


def test_a_log_gets_a_line_at_the_start_and_one_at_the_end(mlp_build, capsys, level):
    level(progress.NORMAL)
    run_csim(mlp_build / "out", np.ones((300, 16)))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and lines[0] == "csim: 300 samples..."
    assert lines[1].startswith("csim: 300 samples: done in ") and lines[1].endswith(" s")


def test_a_terminal_gets_a_bar(mlp_build, capsys, level, monkeypatch):
    level(progress.NORMAL)
    monkeypatch.setattr(progress, "_on_terminal", lambda: True)
    run_csim(mlp_build / "out", np.ones((300, 16)))
    err = capsys.readouterr().err
    assert "\r" in err and "300/300" in err and "100%" in err


def test_quiet_hides_the_steps_and_verbose_shows_details(capsys, level):
    for verbosity, shown in ((progress.QUIET, ""), (progress.NORMAL, "work...\nwork: done in 0.0 s\n"),
                             (progress.VERBOSE, "g++ -O1 x.cpp\nwork...\nwork: done in 0.0 s\n")):
        level(verbosity)
        progress.detail("g++ -O1 x.cpp")
        with progress.step("work"):
            pass
        assert capsys.readouterr().err == shown


def test_the_command_line_says_what_it_does_unless_quiet(mlp_build, capsys):
    np.save(mlp_build / "x.npy", np.ones((5, 16)))
    argv = ["csim", str(mlp_build / "out"), "--input", str(mlp_build / "x.npy"), "--model", str(mlp_build / "mlp.onnx")]
    assert main(argv) == 0
    assert "csim: 5 samples..." in capsys.readouterr().err
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert progress.verbosity() == progress.QUIET  # the command's level ends with the command
