"""Gemm (y = x W^T + b), MatMul (y = x W + b) and Conv (2-D, groups=1, zero padding)
with an exact or a narrowed accumulator.

Inputs: x, W, optional b (W is (out, in) for Gemm; (in, out) for MatMul, whose x may
have leading sample dimensions: (..., in)). Attribute `acc_type` (an `ap_fixed`
spelling), when present, is a narrowed accumulator:
`acc_t s = b[o]; for (k) s += W[o, k] * x[k];` emulated step by step via
`fxhls.fixed.dot`, k running over input features, or (channel, kernel row, kernel
column) for a convolution. Without it the accumulator
is exact: wide enough never to round or overflow, and the sum is taken at once.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from fxhls.fixed import FixedType, accumulator_type, check_exact, dot_with_bias


def _acc_type(node, inputs, fan_in: int) -> FixedType | None:
    if "acc_type" in node.attrs:
        return FixedType.parse(node.attrs["acc_type"])
    x, w = inputs[0], inputs[1]
    if x.type is None or w.type is None:
        return None
    b = inputs[2].type if len(inputs) > 2 else None
    acc = accumulator_type(x.type, w.type, fan_in, b)
    check_exact(acc, torch.float64)  # the sum taken at once in float64 is then exact
    return acc


class Gemm:
    @staticmethod
    def infer(node, inputs):
        return [((inputs[1].shape[0],), _acc_type(node, inputs, inputs[1].shape[1]))]

    @staticmethod
    def execute(node, values):
        x, w, b = values[0], values[1], values[2] if len(values) > 2 else None
        if "acc_type" in node.attrs:
            return [dot_with_bias(x, w, b, node.attrs["acc_type"])]
        return [F.linear(x, w, b)]


class MatMul:
    @staticmethod
    def infer(node, inputs):
        x, w = inputs[0], inputs[1]
        return [((*x.shape[:-1], w.shape[1]), _acc_type(node, inputs, w.shape[0]))]

    @staticmethod
    def execute(node, values):
        x, w, b = values[0], values[1], values[2] if len(values) > 2 else None
        if "acc_type" in node.attrs:
            return [dot_with_bias(x, w.T, b, node.attrs["acc_type"])]
        return [x @ w if b is None else x @ w + b]


def conv_out_size(size: int, kernel: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - kernel) // stride + 1


class Conv:
    """Attributes: strides (sh, sw), pads (ph, pw); symmetric zero padding."""

    @staticmethod
    def infer(node, inputs):
        (_, height, width), (out_c, _, kh, kw) = inputs[0].shape, inputs[1].shape
        (sh, sw), (ph, pw) = node.attrs["strides"], node.attrs["pads"]
        shape = (out_c, conv_out_size(height, kh, sh, ph), conv_out_size(width, kw, sw, pw))
        return [(shape, _acc_type(node, inputs, math.prod(inputs[1].shape[1:])))]

    @staticmethod
    def execute(node, values):
        x, w, b = values[0], values[1], values[2] if len(values) > 2 else None
        stride, padding = tuple(node.attrs["strides"]), tuple(node.attrs["pads"])
        if "acc_type" not in node.attrs:
            return [F.conv2d(x, w, b, stride, padding)]
        n, _, height, width = x.shape
        kernel = w.shape[2:]
        patches = F.unfold(x, kernel, padding=padding, stride=stride)
        rows = dot_with_bias(patches.transpose(1, 2), w.flatten(1), b, node.attrs["acc_type"])
        out_h = conv_out_size(height, kernel[0], stride[0], padding[0])
        out_w = conv_out_size(width, kernel[1], stride[1], padding[1])
        return [rows.transpose(1, 2).reshape(n, -1, out_h, out_w)]


OPS = {"Gemm": Gemm, "MatMul": MatMul, "Conv": Conv}
