"""A new user's first hour, timed: `fxhls build`, `csim`, `cosim` and `report` on the bundled
MNIST model as fresh processes, first with an empty cache (cold: the native kernels, the
precompiled headers, the Verilator model and the yosys synthesis are made), then again
(warm). Prints a table of wall seconds per step.

Run from the repository root:  .venv/bin/python bench/first_hour.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODEL = Path("examples/models/mnist_khot_cnn")


def timed(command: list[str], environment: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=environment, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    fxhls = [sys.executable, "-m", "fxhls"]
    with tempfile.TemporaryDirectory() as work:
        environment = os.environ | {"FXHLS_CACHE": str(Path(work) / "cache")}
        out = str(Path(work) / "build")
        steps = {
            "build": [*fxhls, "build", f"{MODEL}.onnx", "--board", "ultra96v2", "--out", out, "--force"],
            "csim, 32 inputs": [*fxhls, "csim", out, "--input", f"{MODEL}_inputs.npy", "--model", f"{MODEL}.onnx"],
            "cosim, 32 inputs": [*fxhls, "cosim", out, "--input", f"{MODEL}_inputs.npy", "--model", f"{MODEL}.onnx"],
            "report": [*fxhls, "report", out],
        }
        times = {name: [timed(command, environment)] for name, command in steps.items()}
        for name, command in steps.items():
            times[name].append(timed(command, environment))
    print(f"| step | cold (s) | warm (s) |\n|---|---:|---:|")
    for name, (cold, warm) in times.items():
        print(f"| `fxhls {name}` | {cold:.1f} | {warm:.1f} |")


if __name__ == "__main__":
    main()
