"""`fxhls build`, `fxhls emulate` and `fxhls csim` run on numpy alone: in a fresh process
they never import torch (importing it was about half of a build's time), and what they
compute is still the exact emulation, equal to the C simulation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "models"
MODEL = EXAMPLES / "mnist_khot_cnn.onnx"

# Runs each command line through the CLI's main(), then says whether torch was imported.
PROGRAM = """
import json, sys
from fxhls.cli import main
for argv in json.loads(sys.argv[1]):
    if main(argv) != 0:
        sys.exit(f"fxhls {argv[0]} failed")
print("torch imported:", "torch" in sys.modules)
"""


def test_build_emulate_and_csim_never_import_torch(tmp_path):
    np.save(tmp_path / "x.npy", np.load(EXAMPLES / "mnist_khot_cnn_inputs.npy")[:8])
    build = tmp_path / "build"
    commands = [
        ["build", str(MODEL), "--board", "ultra96v2", "--out", str(build)],
        ["emulate", str(MODEL), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "emulated.npy")],
        ["csim", str(build), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "csim.npy")],
    ]
    result = subprocess.run([sys.executable, "-c", PROGRAM, json.dumps(commands)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "torch imported: False"
    emulated, simulated = np.load(tmp_path / "emulated.npy"), np.load(tmp_path / "csim.npy")
    assert emulated.shape == simulated.shape == (8, 10)
    assert int((emulated != simulated).sum()) == 0
