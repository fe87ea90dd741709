"""The exact reference execution of a graph."""

from __future__ import annotations

import numpy as np

from fxhls.fixed import quantize

from .graph import Graph
from .ops import OPS


def as_batch(x, shape) -> np.ndarray:
    """`x` as a float64 batch of samples of `shape` (None: any); a one-line ValueError
    saying what was expected otherwise."""
    try:
        batch = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"inputs must be numbers ({err})") from None
    if shape is not None and batch.shape[1:] != tuple(shape) or batch.ndim == 0:
        expected = ", ".join(map(str, ("batch", *(shape or ("...",)))))
        raise ValueError(f"inputs must be a batch of shape ({expected}), got {batch.shape}")
    return batch


def execute(graph: Graph, x) -> list[np.ndarray]:
    """Run `graph` on the batch `x` (batch first; an array-like) in float64; returns its
    outputs as float64 numpy arrays. A node's `out_type` attribute casts its result."""
    values = dict(graph.constants())
    values[graph.inputs[0]] = as_batch(x, graph.tensor(graph.inputs[0]).shape)
    for node in graph.nodes:
        outputs = OPS[node.op].execute(node, [values[name] for name in node.inputs])
        if "out_type" in node.attrs:
            outputs = [quantize(y, node.attrs["out_type"]) for y in outputs]
        values.update(zip(node.outputs, outputs))
    return [values[name] for name in graph.outputs]
