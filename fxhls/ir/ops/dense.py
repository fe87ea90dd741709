"""Gemm (y = x W^T + b), MatMul (y = x W + b) and Conv (2-D, zero padding, grouped or not)
with an exact or a narrowed accumulator.

Inputs: x, W, optional b (W is (out, in) for Gemm; (in, out) for MatMul, whose x may
have leading sample dimensions: (..., in)). Attribute `acc_type` (an `ap_fixed`
spelling), when present, is a narrowed accumulator:
`acc_t s = b[o]; for (k) s += W[o, k] * x[k];` emulated step by step via
`fxhls.fixed.dot`, k running over input features, or (channel, kernel row, kernel
column) for a convolution. Without it the accumulator
is exact: wide enough never to round or overflow, and the sum is taken at once.

An accumulator of any width is exact; one wider than the emulator's float64 values
is cast by the node's `out_type` inside the sum (`accumulators`).
"""

from __future__ import annotations

import math

import numpy as np

from fxhls.fixed import FixedType, accumulator_type, dot_with_bias

from .accumulators import fits_float64, wide_result_cast
from .windows import conv_out_size, windows


def _acc_type(node, types, fan_in: int) -> FixedType | None:
    """The accumulator: the node's `acc_type`, or the exact one for the operands' `types`
    (None while one is unknown)."""
    if "acc_type" in node.attrs:
        return FixedType.parse(node.attrs["acc_type"])
    if types is None or types[0] is None or types[1] is None:
        return None
    return accumulator_type(types[0], types[1], fan_in, types[2] if len(types) > 2 else None)


def _plus_bias(total: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    return total if b is None else total + b


def _at_once_in_float64(node, acc: FixedType | None) -> bool:
    """Whether the sum may be taken at once in float64: the accumulator is exact (never
    rounds nor overflows) and float64 holds it (or the operand types are unknown)."""
    return "acc_type" not in node.attrs and (acc is None or fits_float64(acc))


def _accumulate(node, x, w, b, acc: FixedType | None):
    """`acc_t s = b[o]; for (k) s += w[o, k] * x[..., k];` for w (O, K) and x (..., K)."""
    if _at_once_in_float64(node, acc):
        return _plus_bias(x @ w.T, b)  # BLAS
    return dot_with_bias(x, w, b, acc, wide_result_cast(node, acc))


class Gemm:
    reads_types = True  # execute takes the input types: float64 holds the sum only when they are narrow enough

    @staticmethod
    def infer(node, inputs):
        return [((inputs[1].shape[0],), _acc_type(node, [t.type for t in inputs], inputs[1].shape[1]))]

    @staticmethod
    def execute(node, values, types=None):
        x, w, b = values[0], values[1], values[2] if len(values) > 2 else None
        return [_accumulate(node, x, w, b, _acc_type(node, types, w.shape[1]))]


class MatMul:
    reads_types = True

    @staticmethod
    def infer(node, inputs):
        x, w = inputs[0], inputs[1]
        return [((*x.shape[:-1], w.shape[1]), _acc_type(node, [t.type for t in inputs], w.shape[0]))]

    @staticmethod
    def execute(node, values, types=None):
        x, w, b = values[0], values[1], values[2] if len(values) > 2 else None
        return [_accumulate(node, x, w.T, b, _acc_type(node, types, w.shape[0]))]


class Conv:
    """Attributes: strides (sh, sw), pads (ph, pw); symmetric zero padding; `groups` (default 1):
    output channel o reads the input channels of its group, as in ONNX and PyTorch."""

    reads_types = True

    @staticmethod
    def infer(node, inputs):
        (channels, height, width), (out_c, group_c, kh, kw) = inputs[0].shape, inputs[1].shape
        groups = node.attrs.get("groups", 1)
        if channels != group_c * groups or out_c % groups:
            raise ValueError(f"Conv {node.name!r}: {channels} input and {out_c} output channels do not split into "
                             f"{groups} groups of weights {inputs[1].shape}")
        (sh, sw), (ph, pw) = node.attrs["strides"], node.attrs["pads"]
        shape = (out_c, conv_out_size(height, kh, sh, ph), conv_out_size(width, kw, sw, pw))
        return [(shape, _acc_type(node, [t.type for t in inputs], math.prod(inputs[1].shape[1:])))]

    @staticmethod
    def execute(node, values, types=None):
        x, w, b = values[0], values[1], values[2] if len(values) > 2 else None
        acc = _acc_type(node, types, math.prod(w.shape[1:]))
        groups = node.attrs.get("groups", 1)
        ins, outs = x.shape[1] // groups, w.shape[0] // groups
        parts = [_conv(node, x[:, g * ins:(g + 1) * ins], w[g * outs:(g + 1) * outs],
                       None if b is None else b[g * outs:(g + 1) * outs], acc) for g in range(groups)]
        return [parts[0] if groups == 1 else np.concatenate(parts, axis=1)]


def _conv(node, x, w, b, acc):
    """One group of a Conv: (N, C, H, W) by (O, C, KH, KW) weights."""
    patches = windows(x, w.shape[2:], node.attrs["strides"], node.attrs["pads"])  # (N, C, OH, OW, KH, KW)
    if _at_once_in_float64(node, acc):
        rows = _plus_bias(np.tensordot(patches, w, axes=([1, 4, 5], [1, 2, 3])), b)  # (N, OH, OW, O)
    else:
        # k runs over (channel, kernel row, kernel column), as w.reshape(O, -1) does
        columns = patches.transpose(0, 2, 3, 1, 4, 5).reshape(*patches.shape[:1], *patches.shape[2:4], -1)
        rows = _accumulate(node, columns, w.reshape(w.shape[0], -1), b, acc)
    return rows.transpose(0, 3, 1, 2)


OPS = {"Gemm": Gemm, "MatMul": MatMul, "Conv": Conv}
