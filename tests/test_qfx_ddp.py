"""QFX layers train under torchrun with DistributedDataParallel (gloo, 2 CPU processes).

The worker (tests/ddp_worker.py) trains the same tiny QFX model on different
data per rank, with DDP and, as a control, without it, and reports which
parameters differ across ranks. With DDP every parameter, the learned binary
points (`*.int_bits`) included, must be identical on both ranks, and the weight
quantizers' binary points must have moved (so they are equal because they are
synchronised, not because they stayed at their start); without DDP, binary
points must differ, which shows that the comparison catches an unsynchronised
parameter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("ddp_worker.py")


@pytest.fixture(scope="module")
def result():
    """The worker's report: {"ddp": ..., "local": ...}, as printed by rank 0."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", str(WORKER)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, run.stdout + run.stderr
    return json.loads(lines[0].removeprefix("RESULT "))


def test_every_parameter_is_identical_across_ranks(result):
    ddp = result["ddp"]
    assert ddp["differing"] == []
    assert ddp["int_bits"]
    for name, (first, second) in ddp["int_bits"].items():
        assert first == second, name


def test_the_comparison_catches_unsynchronised_binary_points(result):
    # Without DDP, ranks that saw different data learn different binary points.
    assert any(name.endswith("int_bits") for name in result["local"]["differing"])


def test_weight_binary_points_are_learned_under_ddp(result):
    weight_points = [name for name in result["ddp"]["moved"] if "weight_quantizer" in name]
    assert weight_points
    assert all(result["ddp"]["moved"][name] for name in weight_points), result["ddp"]["moved"]
