"""A small design for the deploy tests: a (2, 3, 4) ap_ufixed<8,4> image in, 5 ap_fixed<18,8> values out,
its test inputs, and the outputs of tests/deploy_fake_device.py for them, computed here by hand."""

from __future__ import annotations

import importlib
import sys

import numpy as np

from fxhls.deploy import stream_interface
from fxhls.fixed import FixedType
from fxhls.ir import Graph, Node, Tensor

INPUT_SHAPE, OUTPUT_SHAPE = (2, 3, 4), (5,)


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
    for name in ("driver", "packing", "transports"):
        sys.modules.pop(name, None)
    sys.path.insert(0, str(deploy_dir))
    try:
        return importlib.import_module("driver")
    finally:
        sys.path.remove(str(deploy_dir))
