"""The exact reference execution of a graph."""

from __future__ import annotations

import math

import numpy as np

from fxhls.fixed import quantize

from .graph import Graph
from .ops import OPS

CHUNK_VALUES = 1 << 20  # per tensor of a slice of the batch: 8 MB of float64


def as_batch(x, shape) -> np.ndarray:
    """`x` as a float64 batch of samples of `shape` (None: any); a one-line ValueError
    saying what was expected otherwise."""
    if np.iscomplexobj(x):  # float64 would drop the imaginary parts without a word
        raise ValueError("inputs must be real numbers, got complex values")
    try:
        batch = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"inputs must be numbers ({err})") from None
    if batch.ndim == 0 or (shape is not None and batch.shape[1:] != tuple(shape)):
        expected = ", ".join(map(str, ("batch", *(shape or ("...",)))))
        raise ValueError(f"inputs must be a batch of shape ({expected}), got {batch.shape}")
    return batch


def execute(graph: Graph, x) -> list[np.ndarray]:
    """Run `graph` on the batch `x` (batch first; an array-like) in float64; returns its
    outputs as float64 numpy arrays. A node's `out_type` attribute casts its result. Sums
    are exact at any width; one wider than float64 holds must be cast by its node's
    `out_type` (see `fxhls.ir.ops.accumulators`).

    Every op computes each sample on its own, so a large batch runs in slices of at most
    CHUNK_VALUES values per tensor: memory stays bounded, and arrays stay below glibc's
    mmap threshold (at most 32 MB), so the memory a slice frees serves the next one;
    a larger array comes fresh from the system at each allocation, and touching fresh
    pages cost more than the arithmetic (1,024 MNIST images: 1.4 s whole, 0.5 s sliced;
    10,000: 5.5 GB and 14 s whole, 0.24 GB and 5 s sliced)."""
    batch = as_batch(x, graph.tensor(graph.inputs[0]).shape)
    per_sample = max((math.prod(t.shape) for t in graph.tensors.values() if t.data is None and t.shape is not None),
                     default=1)
    step = max(CHUNK_VALUES // max(per_sample, 1), 1)
    if len(batch) <= step:
        return _execute(graph, batch)
    slices = [_execute(graph, batch[start:start + step]) for start in range(0, len(batch), step)]
    return [np.concatenate(outputs) for outputs in zip(*slices)]


def _execute(graph: Graph, batch: np.ndarray) -> list[np.ndarray]:
    values = dict(graph.constants())
    values[graph.inputs[0]] = batch
    for node in graph.nodes:
        op, inputs = OPS[node.op], [values[name] for name in node.inputs]
        if getattr(op, "reads_types", False):
            outputs = op.execute(node, inputs, [graph.tensor(name).type for name in node.inputs])
        else:
            outputs = op.execute(node, inputs)
        if "out_type" in node.attrs:
            outputs = [quantize(y, node.attrs["out_type"]) for y in outputs]
        values.update(zip(node.outputs, outputs))
    return [values[name] for name in graph.outputs]
