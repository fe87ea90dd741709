"""The deploy notebook, executed top to bottom with nbclient against the fake device as a simulator."""

from __future__ import annotations

import pytest
from deploy_designs import device_outputs, image_design, run_notebook, sample_inputs
from nbclient.exceptions import CellExecutionError

from fxhls.deploy import write_deploy


def test_the_notebook_runs_and_matches_the_emulator_bit_for_bit(tmp_path, monkeypatch):
    x = sample_inputs(12, seed=3)
    y = device_outputs(x)
    labels = y.argmax(axis=1)
    labels[:3] = (labels[:3] + 1) % 5  # three wrong labels: 75% accuracy
    text = run_notebook(write_deploy(image_design(), "ultra96v2", tmp_path, x, y, labels=labels), monkeypatch)
    assert "target: sim" in text
    assert "0 of 60 output values differ from the emulator" in text
    assert "accuracy: 75.00% on 12 test inputs" in text
    assert "throughput: " in text


def test_the_notebook_fails_when_the_outputs_differ(tmp_path, monkeypatch):
    x = sample_inputs(4, seed=4)
    wrong = device_outputs(x)
    wrong[2, 1] += 2.0**-10  # one lsb off
    deploy = write_deploy(image_design(), "ultra96v2", tmp_path, x, wrong)
    with pytest.raises(CellExecutionError, match="does not compute what fxhls emulates"):
        run_notebook(deploy, monkeypatch)
