"""The per-op plug-in point of the HLS backend: `LAYERS` maps each hardware-graph op
to a function that turns a node into its C++.

A layer function takes a `LayerContext` and returns a dict:
- "code": the layer's C++ declarations (its config struct), written to
  firmware/layers/<name>.h;
- "weights" (optional): its constant arrays, written to firmware/weights/<name>.h;
- "call": a function `(*input_streams, output_stream) -> str`: the C++ statement of
  the layer's dataflow stage, given the names of its stream variables;
- "headers": the library headers (file names in templates/hls/layers/) it needs.
Every symbol a layer declares is `<name>_<letters>` (e.g. `conv3_config`), so layers
never clash. Names in the context are C++ identifiers (`fxhls.hls.naming`): nothing
from the model file reaches the C++ unchecked.
"""

from __future__ import annotations

from typing import Callable

from . import bnn_threshold, conv, dense, elementwise, mul_shift, multithreshold, pool, prelu, reshape, softmax, table, \
    upsample
from .context import LayerContext, Stream


def _conv(context: LayerContext) -> dict:
    return conv.conv_layer(context.graph, context.node, context.name, context.reuse, context.fold)


LAYERS: dict[str, Callable[[LayerContext], dict]] = {
    "Gemm": dense.dense_layer,
    "Conv": _conv,
    "Affine": elementwise.affine_layer,
    "Relu": elementwise.relu_layer,
    "Sign": elementwise.sign_layer,
    "Threshold": bnn_threshold.threshold_layer,
    "MultiThreshold": multithreshold.multithreshold_layer,
    "MulShift": mul_shift.mul_shift_layer,
    "Quantize": elementwise.cast_layer,
    "Add": elementwise.add_layer,
    "MaxPool": pool.max_pool_layer,
    "AveragePool": pool.average_pool_layer,
    "GlobalAveragePool": pool.global_average_pool_layer,
    "Flatten": reshape.reorder_layer,
    "Reshape": reshape.reorder_layer,
    "Transpose": reshape.reorder_layer,
    "Table": table.table_layer,
    "Concat": reshape.concat_layer,
    "PRelu": prelu.prelu_layer,
    "Upsample": upsample.upsample_layer,
    "Softmax": softmax.softmax_layer,
    "ArgMax": softmax.argmax_layer,
}


def layer_function(op: str) -> Callable[[LayerContext], dict]:
    """The layer function of `op`; a ValueError names the ops the backend supports."""
    if op not in LAYERS:
        raise ValueError(f"op {op} has no HLS layer yet; supported: {', '.join(sorted(LAYERS))}")
    return LAYERS[op]


__all__ = ["LAYERS", "LayerContext", "Stream", "layer_function"]
