"""ONNX LeakyRelu and PRelu -> IR PRelu (`fxhls.ir.ops.prelu`): x, or x times a slope.

PRelu's slope is a constant input (one value, or one per channel; `float_types` types it
as the node's weight). LeakyRelu's slope is its `alpha` attribute: in a float model,
quantized to the type `float_types` gives the node as its `slope_type` attribute (the
node's weight type); elsewhere the float32 value, exactly.
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import FixedType, exact_type, quantize
from fxhls.ir import Node

from .context import ImportContext, OnnxNode

SLOPE_ATTRIBUTE = "slope_type"


def leaky_relu(ctx: ImportContext, n: OnnxNode) -> None:
    alpha = np.array([np.float32(n.attrs.get("alpha", 0.01))], dtype=np.float64)
    if SLOPE_ATTRIBUTE in n.attrs:
        t = FixedType.parse(n.attrs[SLOPE_ATTRIBUTE])
        slope = ctx.add_constant(f"{n.name}_slope", quantize(alpha, t), t)
    else:
        slope = ctx.add_constant(f"{n.name}_slope", alpha, exact_type(alpha))
    _prelu(ctx, n, slope)


def prelu(ctx: ImportContext, n: OnnxNode) -> None:
    name = n.inputs[1]
    if not ctx.is_static(name):
        raise n.refuse(f"its slope {name!r} is computed at run time; only a constant slope is supported")
    rank, shape = len(ctx.tensor(n.inputs[0]).shape), ctx.tensor(name).shape
    if len(shape) > rank + 1 or (len(shape) == rank + 1 and shape[0] != 1):
        raise n.refuse(f"its slope of shape {list(shape)} broadcasts over the batch axis")
    if len(shape) != rank:  # ONNX broadcasts from the right: the per-sample slope has the sample's rank
        per_sample = (1,) * (rank - len(shape)) + tuple(shape)[-rank:]
        name = ctx.static_view(name, lambda data: data.reshape(per_sample), n)
    _prelu(ctx, n, ctx.operand(name, n))


def _prelu(ctx: ImportContext, n: OnnxNode, slope: str) -> None:
    if ctx.is_static(n.inputs[0]):
        raise n.refuse("its input is a constant; only activations are supported")
    ctx.add(Node("PRelu", n.name, [ctx.operand(n.inputs[0], n), slope], n.outputs[:1]), n)


CONVERTERS = {"LeakyRelu": leaky_relu, "PRelu": prelu}
