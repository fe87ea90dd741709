"""Gemm in the HLS backend: a dense layer with the kernels of a convolution window: a MAC
(templates/hls/layers/dense.h) or, folded as FINN's MVU, K-hot shift-add and binary
XNOR-popcount (mvu.h)."""

from __future__ import annotations

import math

from fxhls.templating import render

from . import conv
from .calls import stage_call
from .context import LayerContext

HEADERS = ("dense.h", "conv_mac.h", "khot.h", "bnn.h", "mvu.h")


def dense_layer(context: LayerContext) -> dict:
    """The C++ of a Gemm node: its config, its weights, and its stage. A Threshold fed
    by a binary Gemm alone is computed by it (`bnn.fused_threshold`)."""
    graph, node, name = context.graph, context.node, context.name
    x, w = graph.tensor(node.inputs[0]), graph.tensor(node.inputs[1])
    n_out, n_in = w.shape
    values = dict(node=node.name, layer=name, in_type=x.type, n_in=n_in, n_out=n_out,
                  beats=context.inputs[0].beats, reuse=context.reuse,
                  multipliers=math.ceil(n_in * n_out / context.reuse)) | conv.kernel_context(graph, node, context.reuse,
                                                                                         context.fold)
    kernel = values["kernel"]
    function = "fxhls::dense_mvu" if kernel in conv.LANE_KERNELS else "fxhls::dense"
    return {
        "code": render("hls/layers/dense_config.h.j2", **values),
        "weights": render("hls/layers/kernel_constants.h.j2", **values),
        "call": stage_call(function, [f"{name}_config", f"fxhls::{kernel}_kernel<{name}_config>"],
                           [f"{name}_{params}" for params in conv.KERNEL_PARAMS[kernel]]),
        "headers": HEADERS,
    }
