"""A build killed (SIGKILL) at any of its steps leaves hidden staging folders; the next
build removes them, and puts back a previous build the killed one had retired."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from fuzz_models import tiny_mlp

from fxhls.cli import main

ROOT = Path(__file__).parents[1]

# A build in a child process that kills itself (SIGKILL: nothing runs after it) at one step.
_KILLED_BUILD = """
import os, signal, sys
import fxhls.hls.build as build
import fxhls.staging as staging

def kill(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

step = sys.argv[3]
if step == "between the renames":
    real_rename = os.rename
    build_staging = f".{os.path.basename(sys.argv[2])}.staging-"
    staging.Path.rename = lambda self, target: (kill() if self.name.startswith(build_staging)
                                                else real_rename(self, target))
else:
    setattr(build, step, kill)
build.build_project(sys.argv[1], "ultra96v2", sys.argv[2])
"""


def _killed_build(model: Path, out: Path, step: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", _KILLED_BUILD, str(model), str(out), step], env=env)
    assert run.returncode == -9


@pytest.mark.parametrize("step", ["write_hls_project", "write_rtl_unless_refused", "write_deploy",
                                  "between the renames"])
def test_the_next_build_cleans_up_after_a_killed_one(tmp_path, step):
    model, out = tmp_path / "m.onnx", tmp_path / "builds" / "out"
    onnx.save(tiny_mlp(), model)
    assert main(["build", str(model), "--board", "ultra96v2", "--out", str(out)]) == 0
    first = sorted(p.relative_to(out) for p in out.rglob("*"))
    _killed_build(model, out, step)
    hidden = [p.name for p in out.parent.iterdir() if p.name.startswith(".")]
    assert hidden, "the kill left nothing behind: the test does not test"
    if step == "between the renames":
        assert not out.exists()
    assert main(["build", str(model), "--board", "ultra96v2", "--out", str(out)]) == 0
    assert [p.name for p in out.parent.iterdir()] == ["out"]
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == first
