"""MaxPool, AveragePool and GlobalAveragePool (2-D, no padding).

An average is the exact window sum times 1/N: exact when the node has no
`reciprocal_type` attribute, else 1/N quantized to that type (how the hardware
multiplies by it when N is not a power of two).
"""

from __future__ import annotations

from fxhls.fixed import FixedType, reciprocal

from .windows import conv_out_size, windows


def _pooled_shape(node, shape):
    channels, height, width = shape
    (kh, kw), (sh, sw) = node.attrs["kernel_shape"], node.attrs["strides"]
    return (channels, conv_out_size(height, kh, sh, 0), conv_out_size(width, kw, sw, 0))


def _reciprocal(node, count: int) -> float:
    if "reciprocal_type" not in node.attrs:
        return 1.0 / count
    return reciprocal(count, FixedType.parse(node.attrs["reciprocal_type"]))


class MaxPool:
    """Selects values: the type is the input's."""

    @staticmethod
    def infer(node, inputs):
        return [(_pooled_shape(node, inputs[0].shape), inputs[0].type)]

    @staticmethod
    def execute(node, values):
        return [windows(values[0], node.attrs["kernel_shape"], node.attrs["strides"]).max(axis=(4, 5))]


class AveragePool:
    """Window sum times 1/N; the type is left to the Quantize that follows (None)."""

    @staticmethod
    def infer(node, inputs):
        return [(_pooled_shape(node, inputs[0].shape), None)]

    @staticmethod
    def execute(node, values):
        kernel = node.attrs["kernel_shape"]
        sums = windows(values[0], kernel, node.attrs["strides"]).sum(axis=(4, 5))
        return [sums * _reciprocal(node, kernel[0] * kernel[1])]


class GlobalAveragePool:
    """Sum over H x W times 1/(H*W); output shape (C, 1, 1)."""

    @staticmethod
    def infer(node, inputs):
        return [((inputs[0].shape[0], 1, 1), None)]

    @staticmethod
    def execute(node, values):
        x = values[0]
        return [x.sum(axis=(2, 3), keepdims=True) * _reciprocal(node, x.shape[2] * x.shape[3])]


OPS = {"MaxPool": MaxPool, "AveragePool": AveragePool, "GlobalAveragePool": GlobalAveragePool}
