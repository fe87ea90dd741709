"""`fxhls build` then C simulation equals `fxhls emulate` bit for bit on every model of
the QFX zoo (dense, K-hot, narrowed accumulators, convolution, binary with thresholds
and XNOR-popcount, residual CNN with pools) and of the Brevitas QONNX zoo; the
testbench's self-check passes on the emulator's test vectors."""

from __future__ import annotations

import subprocess

import pytest
import torch

from brevitas_models import NAMES as BREVITAS_NAMES
from brevitas_models import exported
from fxhls.emulation import emulate
from fxhls.hls.build import build_project
from fxhls.onnx import export_onnx
from fxhls.sim.csim import compile_csim, run_csim
from hls_build_helpers import sample_inputs
from qfx_models import qfx_zoo

QFX = {name: (model, shape) for name, model, shape in qfx_zoo()}
# The hardware contract refuses this one: its Reshape moves values in stream order.
BREVITAS_REFUSED = {"reshape_transpose": "moves values in stream order"}


def _check(model_path, x, out_dir):
    out, _ = build_project(model_path, "ultra96v2", out_dir)
    got, expected = run_csim(out, x), emulate(model_path, x)
    assert got.shape == expected.shape
    assert int((got != expected).sum()) == 0
    self_check = subprocess.run([str(compile_csim(out))], cwd=out / "tb", capture_output=True, text=True)
    assert self_check.returncode == 0, self_check.stderr
    assert " 0 of " in self_check.stdout


@pytest.mark.parametrize("name", QFX)
def test_qfx_zoo_csim_equals_emulate(name, tmp_path):
    model, shape = QFX[name]
    export_onnx(model, torch.randn(2, *shape), tmp_path / f"{name}.onnx")
    _check(tmp_path / f"{name}.onnx", sample_inputs(shape, 64, seed=7), tmp_path / "build")


@pytest.fixture(scope="module")
def brevitas_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("brevitas")


@pytest.mark.parametrize("name", BREVITAS_NAMES)
def test_brevitas_zoo_csim_equals_emulate(name, brevitas_dir, tmp_path):
    path, x = exported(name, brevitas_dir)
    if name in BREVITAS_REFUSED:
        with pytest.raises(ValueError, match=BREVITAS_REFUSED[name]):
            build_project(path, "ultra96v2", tmp_path / "build")
        assert not (tmp_path / "build").exists()
        return
    _check(path, x, tmp_path / "build")
