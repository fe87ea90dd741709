"""Helpers of the deploy tests: a small design (a (2, 3, 4) ap_ufixed<8,4> image in, 5
ap_fixed<18,8> values out), its test inputs, the outputs of tests/deploy_fake_device.py for
them (computed here by hand), and loading the generated driver and running the notebook."""

from __future__ import annotations

import importlib
import shlex
import sys
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

from fxhls.deploy import stream_interface
from fxhls.fixed import FixedType
from fxhls.ir import Graph, Node, Tensor

INPUT_SHAPE, OUTPUT_SHAPE = (2, 3, 4), (5,)
FAKE_DEVICE_SCRIPT = Path(__file__).with_name("deploy_fake_device.py")


def image_design(board: str = "ultra96v2", name: str = "tiny cnn", clock_mhz: float = 200) -> dict:
    tensors = {
        "x": Tensor("x", INPUT_SHAPE),
        "q": Tensor("q", INPUT_SHAPE, FixedType(8, 4, False)),
        "y": Tensor("y", OUTPUT_SHAPE, FixedType(18, 8)),
    }
    nodes = [Node("Quantize", "cast", ["x"], ["q"]), Node("Dense", "dense", ["q"], ["y"])]
    return stream_interface(Graph(nodes, tensors, ["x"], ["y"]), name, board, clock_mhz)


def sample_inputs(batch: int, seed: int = 0) -> np.ndarray:
    """ap_ufixed<8,4> values: codes 0..255 over 16."""
    return np.random.default_rng(seed).integers(0, 256, size=(batch, *INPUT_SHAPE)) / 16.0


def device_outputs(x: np.ndarray) -> np.ndarray:
    """What the fake device returns: output j = (3 (j+1) code_j - 7 j) / 2**10, code_j the j-th input
    code in stream order (pixel by pixel, the channels of a pixel together)."""
    channels, height, width = INPUT_SHAPE
    y = np.zeros((len(x), *OUTPUT_SHAPE))
    for b, sample in enumerate(x):
        stream = [sample[c, h, w] for h in range(height) for w in range(width) for c in range(channels)]
        for j in range(OUTPUT_SHAPE[0]):
            y[b, j] = (3 * (j + 1) * int(stream[j] * 16) - 7 * j) / 1024
    return y


def load_driver(deploy_dir):
    """Import the deploy package's driver.py as the board does (its folder on sys.path)."""
    for name in ("driver", "packing", "transports", "float32"):
        sys.modules.pop(name, None)
    sys.path.insert(0, str(deploy_dir))
    try:
        return importlib.import_module("driver")
    finally:
        sys.path.remove(str(deploy_dir))


def run_notebook(deploy: Path, monkeypatch, sim_command: str | None = None) -> str:
    """Execute fxhls_demo.ipynb in its folder with FXHLS_TARGET=sim (default simulator: the
    fake device); returns its printed text."""
    fake_device = shlex.join([sys.executable, str(FAKE_DEVICE_SCRIPT), str(deploy / "design.json")])
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.setenv("FXHLS_SIM_COMMAND", sim_command or fake_device)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(deploy / "fxhls_demo.ipynb", as_version=4)
    nbformat.validate(notebook)  # fxhls writes the JSON itself
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(deploy)}}).execute()
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)
