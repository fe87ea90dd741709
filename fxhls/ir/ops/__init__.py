"""The registry of IR ops: each knows its output shapes and types and its exact execution.

An op is an object with
- `infer(node, inputs) -> list[(shape, type)]`, `inputs` being the node's input `Tensor`s;
- `execute(node, values) -> list[np.ndarray]`, batched float64 values in, out. An op
  whose exact execution depends on its inputs' types (the sums: Gemm, MatMul, Conv, the
  average pools) says so with `reads_types = True` and takes them:
  `execute(node, values, types)`, `types` the input tensors' FixedTypes (None where
  unknown; the argument may be left out, as for an op without types).
"""

from __future__ import annotations

from . import activation, affine, argmax, arith, dense, host, mul_shift, multithreshold, pool, prelu, quantize, resize, \
    shape, softmax, table, threshold

OPS = {**quantize.OPS, **affine.OPS, **dense.OPS, **arith.OPS, **activation.OPS, **pool.OPS,
       **shape.OPS, **threshold.OPS, **host.OPS, **multithreshold.OPS,
       **table.OPS, **prelu.OPS, **resize.OPS, **softmax.OPS, **argmax.OPS, **mul_shift.OPS}

__all__ = ["OPS"]
