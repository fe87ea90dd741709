"""Emulation: the exact output of an fxhls model (ONNX file or IR graph) on a batch."""

from __future__ import annotations

import numpy as np

from fxhls.ir import Graph, execute


def emulate(model, x) -> np.ndarray:
    """Run `model` (a path to fxhls ONNX, or a `Graph`) on the batch `x` (batch first);
    returns its first output as float64 values, bit for bit what the hardware computes."""
    from fxhls.onnx import load_onnx

    graph = model if isinstance(model, Graph) else load_onnx(model)
    return execute(graph, x)[0]


def count_differences(y: np.ndarray, expected: np.ndarray) -> int:
    """How many values of the outputs `y` differ from the emulator's `expected` (same
    values, any shape with as many): the count csim and cosim report."""
    return int((y != np.asarray(expected).reshape(y.shape)).sum())
