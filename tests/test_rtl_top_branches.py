"""The RTL top's forks and reordering Flatten against the emulator, with ==.

Models of tests/qfx_branch_models.py (a downsample shortcut with a Conv on it, a tensor
read by three stages, one read twice by an Add, a flattened image as the output or read by
a rounding dense layer, convolutions padded by their kernel's size) are written as RTL tops and simulated together in one Verilator
build (tests/rtl_top_bank.py) under random back-pressure on both streams, so a FIFO too shallow for a branch's lag deadlocks the
run and a wrong order or wrong branch shows as mismatches.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qfx_branch_models import branch_zoo
from rtl_top_bank import build_bank, stream_bank, write_case

from fxhls.emulation import emulate
from fxhls.ir.passes import lower_for_hardware
from fxhls.onnx import export_onnx, load_onnx

SAMPLES = 3


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rtl_branches")
    cases = []
    for name, model, shape in branch_zoo():
        export_onnx(model.eval(), torch.randn(2, *shape), folder / f"{name}.onnx")
        graph = lower_for_hardware(load_onnx(folder / f"{name}.onnx"))
        x = np.random.default_rng(len(name)).normal(size=(SAMPLES, *shape)) * 2
        cases.append(write_case(f"branch_{name}", graph, x, folder))
    return cases, build_bank(cases, folder, "branch_bank")


def test_the_tops_have_the_forks_and_stages_they_need(bank):
    cases, _ = bank
    forks = {case.name: sum(source.read_text().count("fxhls_fork #(") for source in case.rtl.sources[-1:])
             for case in cases}
    assert forks == {"branch_downsample": 1, "branch_three_readers": 2, "branch_doubled": 1, "branch_wide_padding": 0, "branch_flat_output": 0,
                     "branch_flat_rounding_dense": 0}
    for name in ("branch_flat_output", "branch_flat_rounding_dense"):
        flat = next(case for case in cases if case.name == name)
        assert "fxhls_flatten #(" in flat.rtl.sources[-1].read_text()


@pytest.mark.parametrize("pause, seed", [(0.3, 5), (0.6, 11)])
def test_branched_tops_equal_the_emulator_under_back_pressure(bank, pause, seed):
    cases, build_dir = bank
    results = stream_bank(build_dir, cases, pause=pause, seed=seed, name="branch_bank")
    mismatches = {}
    for case in cases:
        y, last, _ = results[case.name]
        mismatches[case.name] = int((y != emulate(case.graph, case.x)).sum())
        assert last == [0] * (len(last) - 1) + [1], f"{case.name}: TLAST on words {np.flatnonzero(last)}"
    assert mismatches == {case.name: 0 for case in cases}
