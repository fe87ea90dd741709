"""The deploy package's driver and notebook with FXHLS_TARGET=sim against the HLS C simulation:
the emulator's outputs, bit for bit, through the same packing, file protocol and unpacking."""

from __future__ import annotations

import numpy as np
import pytest
from deploy_builds import build
from deploy_designs import load_driver, run_notebook

from fxhls.sim.csim import compile_csim


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(deploy folder, csim executable) per model, built once for this module."""
    cache = {}

    def get(name: str):
        if name not in cache:
            deploy = build(name, tmp_path_factory.mktemp(name))
            cache[name] = deploy, compile_csim(deploy.parent)
        return cache[name]

    return get


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_the_driver_against_the_csim_returns_the_emulators_outputs(name, built, monkeypatch):
    deploy, csim = built(name)
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.setenv("FXHLS_SIM_COMMAND", str(csim))
    accelerator = load_driver(deploy).Accelerator()
    x, expected = np.load(deploy / "test_inputs.npy"), np.load(deploy / "expected_outputs.npy")
    y = accelerator.predict(x)
    assert y.shape == expected.shape
    assert int((y != expected).sum()) == 0


def test_the_notebook_against_the_csim(built, monkeypatch):
    deploy, csim = built("cnn")
    text = run_notebook(deploy, monkeypatch, sim_command=str(csim))
    assert "0 of 72 output values differ from the emulator" in text
    assert "accuracy: 100.00% on 24 test inputs" in text
