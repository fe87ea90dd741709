"""The compiler side runs on numpy alone: `fxhls build`, `fxhls emulate` and `fxhls csim` in
a fresh process never import torch (importing it took most of a build's time), and what
they compute is still the exact emulation, equal to the C simulation; no module outside
the training side imports torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "models"
MODEL = EXAMPLES / "mnist_khot_cnn.onnx"
# The training side: QFX (PyTorch modules), its ONNX export, the PyTorch quantize.
TORCH_MODULES = ("fxhls.qfx", "fxhls.onnx.export", "fxhls.fixed.quantize_torch", "fxhls.fixed.native_tensors")

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
    """With the native kernels, as fxhls runs by default (with FXHLS_NATIVE=0, quantize on
    arrays falls back to its PyTorch implementation)."""
    np.save(tmp_path / "x.npy", np.load(EXAMPLES / "mnist_khot_cnn_inputs.npy")[:8])
    build = tmp_path / "build"
    commands = [
        ["build", str(MODEL), "--board", "ultra96v2", "--out", str(build)],
        ["emulate", str(MODEL), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "emulated.npy")],
        ["csim", str(build), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "csim.npy")],
    ]
    result = subprocess.run([sys.executable, "-c", PROGRAM, json.dumps(commands)], capture_output=True, text=True,
                            env=os.environ | {"FXHLS_NATIVE": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "torch imported: False"
    emulated, simulated = np.load(tmp_path / "emulated.npy"), np.load(tmp_path / "csim.npy")
    assert emulated.shape == simulated.shape == (8, 10)
    assert int((emulated != simulated).sum()) == 0


def test_no_module_outside_the_training_side_imports_torch():
    package = ROOT / "fxhls"
    modules = sorted(".".join(("fxhls", *path.relative_to(package).with_suffix("").parts)).removesuffix(".__init__")
                     for path in package.rglob("*.py") if not {"templates", "boards"} & set(path.parts))
    compiler_side = [name for name in modules if not name.startswith(TORCH_MODULES)]
    assert len(compiler_side) > 80
    program = ("import importlib, sys\n"
               f"for name in {compiler_side!r}:\n"
               "    importlib.import_module(name)\n"
               "    if 'torch' in sys.modules:\n"
               "        sys.exit(f'importing {name} imported torch')\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
