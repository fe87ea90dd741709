"""The registry of IR ops: each knows its output shapes and types and its exact execution.

An op is an object with
- `infer(node, inputs) -> list[(shape, type)]`, `inputs` being the node's input `Tensor`s;
- `execute(node, values) -> list[np.ndarray]`, batched float64 values in, out.
"""

from __future__ import annotations

from . import activation, affine, arith, dense, host, multithreshold, pool, quantize, shape, threshold

OPS = {**quantize.OPS, **affine.OPS, **dense.OPS, **arith.OPS, **activation.OPS, **pool.OPS,
       **shape.OPS, **threshold.OPS, **host.OPS, **multithreshold.OPS}

__all__ = ["OPS"]
