"""MaxPool, AveragePool and GlobalAveragePool (2-D).

MaxPool and AveragePool may have `pads` ([rows, columns] of zeros on each side, what
`fxhls.ir.passes.fold_pads` folds in from a zero Pad): their windows walk the zero-padded
image, so they equal the pool without padding over the Pad's output (the zeros count in
the maximum and in the average's N, ONNX's count_include_pad).

An average is the exact window sum times 1/N: exact when the node has no
`reciprocal_type` attribute, else 1/N quantized to that type (how the hardware
multiplies by it when N is not a power of two). The product is exact at any width:
where float64 cannot hold it, it is the dot product of the window with 1/N in
integers, cast by the node's `out_type` (`accumulators`).
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import FixedType, accumulator_type, dot, exact_type, reciprocal

from .accumulators import fits_float64, wide_result_cast
from .windows import conv_out_size, window_pads, windows


def _pooled_shape(node, shape):
    channels, height, width = shape
    (kh, kw), (sh, sw), (ph, pw) = node.attrs["kernel_shape"], node.attrs["strides"], window_pads(node)
    return (channels, conv_out_size(height, kh, sh, ph), conv_out_size(width, kw, sw, pw))


def _windows(node, x: np.ndarray) -> np.ndarray:
    """The pool's windows over the zero-padded batch x (N, C, H, W): (N, C, OH, OW, KH, KW)."""
    return windows(x, node.attrs["kernel_shape"], node.attrs["strides"], window_pads(node))


def _reciprocal(node, count: int) -> float:
    if "reciprocal_type" not in node.attrs:
        return 1.0 / count
    return reciprocal(count, FixedType.parse(node.attrs["reciprocal_type"]))


def _average(node, values: np.ndarray, types) -> np.ndarray:
    """The average over the last two axes of `values`: their sum times 1/N, exactly."""
    count = values.shape[-2] * values.shape[-1]
    scale = _reciprocal(node, count)
    x_type = types[0] if types else None
    acc = accumulator_type(x_type, exact_type([scale]), count) if x_type is not None else None
    if acc is None or fits_float64(acc):
        return values.sum(axis=(-2, -1)) * scale
    flat = values.reshape(*values.shape[:-2], count)
    return dot(flat, np.full(count, scale), acc, wide_result_cast(node, acc))


class MaxPool:
    """Selects values: the type is the input's."""

    @staticmethod
    def infer(node, inputs):
        return [(_pooled_shape(node, inputs[0].shape), inputs[0].type)]

    @staticmethod
    def execute(node, values):
        return [_windows(node, values[0]).max(axis=(4, 5))]


class AveragePool:
    """Window sum times 1/N; the type is left to the Quantize that follows (None)."""

    reads_types = True  # execute takes the input types: float64 holds the sum only when they are narrow enough

    @staticmethod
    def infer(node, inputs):
        return [(_pooled_shape(node, inputs[0].shape), None)]

    @staticmethod
    def execute(node, values, types=None):
        return [_average(node, _windows(node, values[0]), types)]


class GlobalAveragePool:
    """Sum over H x W times 1/(H*W); output shape (C, 1, 1)."""

    reads_types = True

    @staticmethod
    def infer(node, inputs):
        return [((inputs[0].shape[0], 1, 1), None)]

    @staticmethod
    def execute(node, values, types=None):
        return [_average(node, values[0], types)[..., None, None]]


OPS = {"MaxPool": MaxPool, "AveragePool": AveragePool, "GlobalAveragePool": GlobalAveragePool}
