"""Emulation: the exact output of an fxhls model (ONNX file or IR graph) on a batch."""

from __future__ import annotations

import numpy as np

from fxhls.ir import Graph, execute
from fxhls.ir.ops.argmax import is_index_output
from fxhls.ir.passes import fuse_quantize


def emulate(model, x, input_type=None, default_type=None, config=None) -> np.ndarray:
    """Run `model` (a path to fxhls ONNX, or a `Graph`) on the batch `x` (batch first);
    returns its first output as float64 values, bit for bit what the hardware computes
    (int64 class indices where the model ends in an ArgMax).
    A float model's types (`input_type`, `default_type`, `config`) are `load_onnx`'s.

    A file's casts are fused into the nodes before them (`fuse_quantize`, as the hardware
    stages do; the values are the same), so a sum wider than float64 holds is cast inside
    its exact computation; a `Graph` runs as given (see `fxhls.ir.execute`)."""
    graph = model if isinstance(model, Graph) else load_model(model, input_type, default_type, config)
    y = execute(graph, x)[0]
    return y.astype(np.int64) if is_index_output(graph) else y


def load_model(path, input_type=None, default_type=None, config=None) -> Graph:
    """The graph `emulate` runs for the ONNX file `path` (typed as `load_onnx` types it)."""
    from fxhls.onnx import load_onnx

    return fuse_quantize(load_onnx(path, input_type, default_type, config))


def count_differences(y: np.ndarray, expected: np.ndarray) -> int:
    """How many values of the outputs `y` differ from the emulator's `expected` (same
    values, any shape with as many): the count csim and cosim report."""
    return int((y != np.asarray(expected).reshape(y.shape)).sum())
