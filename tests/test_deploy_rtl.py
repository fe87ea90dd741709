"""The deploy package's driver with FXHLS_TARGET=sim against the RTL in Verilator
(`python -m fxhls.sim.rtl_cosim DIR`, the file protocol): the emulator's outputs bit for bit."""

from __future__ import annotations

import shlex
import sys

import numpy as np
from deploy_builds import build
from deploy_designs import load_driver


def test_the_driver_against_verilator_returns_the_emulators_outputs(tmp_path, monkeypatch):
    deploy = build("mlp", tmp_path)
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.setenv("FXHLS_SIM_COMMAND", shlex.join([sys.executable, "-m", "fxhls.sim.rtl_cosim", str(deploy.parent)]))
    accelerator = load_driver(deploy).Accelerator()
    x, expected = np.load(deploy / "test_inputs.npy"), np.load(deploy / "expected_outputs.npy")
    y = accelerator.predict(x)
    assert y.shape == expected.shape
    assert int((y != expected).sum()) == 0
