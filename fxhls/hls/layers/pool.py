"""Pooling layers in the HLS backend (templates/hls/layers/pool.h): max and average
pooling on the convolution's line buffer (zero padded as a Conv's where the node has
`pads`), global average pooling as running sums."""

from __future__ import annotations

import math

from fxhls.fixed import FixedType, reciprocal
from fxhls.ir.ops.windows import window_pads
from fxhls.templating import render

from .calls import stage_call
from .context import LayerContext
from .conv import cpp_number

HEADERS = ("pool.h", "conv2d.h")
_FLOAT64_SIGNIFICAND = 53


def max_pool_layer(context: LayerContext) -> dict:
    """MaxPool: the largest value of each channel's window."""
    values = _window(context, "max")
    name = context.name
    return {"code": render("hls/layers/pool_config.h.j2", **values),
            "call": stage_call("fxhls::conv2d_stream", [f"{name}_config", f"fxhls::max_pool_kernel<{name}_config>"],
                               ["0", "0"]),
            "headers": HEADERS}


def average_pool_layer(context: LayerContext) -> dict:
    """AveragePool: each channel's exact window sum times 1/N, then the output cast."""
    node, name = context.node, context.name
    count = math.prod(node.attrs["kernel_shape"])
    values = _window(context, "average") | _average(context, count)
    return {"code": render("hls/layers/pool_config.h.j2", **values),
            "weights": render("hls/layers/reciprocal.h.j2", **values),
            "call": stage_call("fxhls::conv2d_stream",
                               [f"{name}_config", f"fxhls::average_pool_kernel<{name}_config>"],
                               [f"{name}_reciprocal", "0"]),
            "headers": HEADERS}


def global_average_pool_layer(context: LayerContext) -> dict:
    """GlobalAveragePool: each channel's exact sum over the image times 1/(H*W)."""
    name, beats = context.name, context.inputs[0].beats
    values = dict(node=context.node.name, layer=name, beats=beats, channels=context.inputs[0].lanes) \
        | _average(context, beats)
    return {"code": render("hls/layers/global_pool_config.h.j2", **values),
            "weights": render("hls/layers/reciprocal.h.j2", **values),
            "call": stage_call("fxhls::global_average_pool", [f"{name}_config"], [f"{name}_reciprocal"]),
            "headers": ("pool.h",)}


def sum_type(t: FixedType, count: int) -> FixedType:
    """A type holding any sum of `count` values of type t exactly."""
    growth = math.ceil(math.log2(count)) if count > 1 else 0
    return FixedType(t.width + growth, t.int_bits + growth, t.signed)


def reciprocal_constant(node, count: int) -> tuple[FixedType, float, bool]:
    """(type, value, exact) of the 1/count the hardware multiplies by: a power of two
    exactly, else `fxhls.fixed.reciprocal` in the node's reciprocal_type."""
    if count & (count - 1) == 0:
        exponent = count.bit_length() - 1
        return FixedType(1, 1 - exponent, False), reciprocal(count, FixedType(1, 1, False)), True
    if "reciprocal_type" not in node.attrs:
        raise ValueError(f"node {node.name!r}: averaging {count} values needs the attribute reciprocal_type "
                         f"(1/{count} is not a power of two); export the model with fxhls.qfx")
    t = FixedType.parse(node.attrs["reciprocal_type"])
    return t, reciprocal(count, t), False


def _window(context: LayerContext, kind: str) -> dict:
    node, x = context.node, context.graph.tensor(context.node.inputs[0])
    channels, height, width = x.shape
    (kernel_h, kernel_w), (stride_h, stride_w) = node.attrs["kernel_shape"], node.attrs["strides"]
    pad_h, pad_w = window_pads(node)
    return dict(node=node.name, layer=context.name, kind=kind, in_type=x.type, in_channels=channels,
                in_height=height, in_width=width, kernel_h=kernel_h, kernel_w=kernel_w, stride_h=stride_h,
                stride_w=stride_w, pad_h=pad_h, pad_w=pad_w, sum_type=None)


def _average(context: LayerContext, count: int) -> dict:
    node, x = context.node, context.graph.tensor(context.node.inputs[0])
    sums = sum_type(x.type, count)
    recip_type, value, exact = reciprocal_constant(node, count)
    if sums.width + recip_type.width > _FLOAT64_SIGNIFICAND:
        raise ValueError(f"node {node.name!r}: the sum of {count} values of {x.type} times 1/{count} in {recip_type} "
                         f"has more than {_FLOAT64_SIGNIFICAND} bits; the emulator cannot compute it exactly")
    return dict(sum_type=sums, count=count, reciprocal_type=recip_type, reciprocal=cpp_number(value), exact=exact)
