"""Float values while a float-scaled QONNX model is imported (see `float_scaled`).

A float-scaled tensor is an IR tensor of codes with `facts` "scale" and "zero_point"; a
*float chain* is what an ONNX name stands for when float work follows exact integer work:
{"source": the IR tensor of exact values, "chain": {"rescale", "steps"}} (see
`fxhls.fixed.float32`), kept in `ImportContext.chains`. These helpers read them, read the
float32 values of constants as qonnx computes them, and turn broadcast constants into one
value per channel.
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed.float32 import chain_shape, rescale
from fxhls.ir import OPS

from .context import ImportContext, OnnxNode


def is_float_value(ctx: ImportContext, name: str) -> bool:
    """A float chain, or the float graph input (as it is, or moved by a Flatten or Reshape)."""
    return name in ctx.chains or (ctx.tensor(name).type is None and not ctx.is_static(name))


def has_scale(ctx: ImportContext, name: str) -> bool:
    return name not in ctx.chains and "scale" in ctx.tensor(name).facts


def float32_of_static(ctx: ImportContext, name: str, n: OnnxNode) -> np.ndarray:
    """The float32 values qonnx computes for the static tensor `name`."""
    tensor, producer = ctx.tensor(name), ctx.producer(name)
    if tensor.data is not None and "scale" in tensor.facts:
        zero, scale = tensor.facts["zero_point"], tensor.facts["scale"]
        return rescale(tensor.data, {"zero": zero, "scales": [scale]}, channel_axis=0)
    if tensor.data is not None:
        return tensor.data.astype(np.float32)
    if producer is not None and all(ctx.tensors[i].data is not None for i in producer.inputs):
        return OPS[producer.op].execute(producer, [ctx.tensors[i].data for i in producer.inputs])[0].astype(np.float32)
    raise n.refuse(f"{name!r} is computed from constants by {producer.op if producer else 'an op'}; only a "
                   f"constant or a quantized constant is supported here")


def channel_vector(values: np.ndarray, shape: tuple[int, ...], axis: int, what: str, n: OnnxNode) -> list[float]:
    """`values` (broadcast against `shape`) as one value per index of `axis`, or one value."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim > len(shape):
        if any(d != 1 for d in values.shape[:values.ndim - len(shape)]):
            raise n.refuse(f"its {what} of shape {list(values.shape)} broadcasts over the batch axis")
        values = values.reshape(values.shape[values.ndim - len(shape):])
    try:
        full = np.broadcast_to(values, shape)
    except ValueError:
        raise n.refuse(f"its {what} of shape {list(values.shape)} does not broadcast to {list(shape)}") from None
    vector = np.moveaxis(full, axis, 0).reshape(shape[axis], -1)
    if (vector != vector[:, :1]).any():
        raise n.refuse(f"its {what} varies within a channel; one value per channel (axis {axis}) is supported")
    vector = vector[:, 0]
    return [float(vector[0])] if (vector == vector[0]).all() else vector.tolist()


def activation_facts(ctx: ImportContext, name: str) -> tuple[list[float], list[float]]:
    facts = ctx.tensor(name).facts
    return np.ravel(facts["scale"]).tolist(), np.ravel(facts["zero_point"]).tolist()


def chain_of(ctx: ImportContext, name: str, n: OnnxNode) -> dict:
    """The float chain an activation stands for: its own, or one that starts from it
    (the float input as it is, or codes as the value s * (q - z) they stand for)."""
    if name in ctx.chains:
        chain = ctx.chains[name]
        if "average" in chain:
            average = chain["average"]
            raise n.refuse(f"reads {name!r}, the average of {average['count']} values ({average['node']!r}): qonnx "
                           f"divides by {average['count']} in float32, which rounds (not fixed point); such an "
                           f"average is supported when a Trunc follows it (Brevitas's TruncAvgPool)")
        return chain
    tensor = ctx.tensor(name)
    if tensor.type is None:
        return {"source": tensor.name, "chain": {"steps": []}}
    if "scale" in tensor.facts:
        scales = [channel_vector(tensor.facts["scale"], tensor.shape, 0, "scale", n)]
        zero = channel_vector(tensor.facts["zero_point"], tensor.shape, 0, "zero point", n)
    else:
        scales, zero = [], [0.0]
    rescale_ = {"zero": zero, "scales": scales, "node": n.name}
    return {"source": tensor.name, "chain": {"rescale": rescale_, "steps": []}}


def shape_of(ctx: ImportContext, chain: dict) -> tuple[int, ...]:
    """The sample shape of a float chain's values (a host head's first layer changes it)."""
    return chain_shape(chain["chain"], ctx.tensors[chain["source"]].shape)


def extended(chain: dict, step: dict, n: OnnxNode) -> dict:
    """`chain` with one more step, which ONNX node `n` computes."""
    step = {**step, "node": n.name}
    return {**chain, "chain": {**chain["chain"], "steps": [*chain["chain"]["steps"], step]}}


def described(ctx: ImportContext, name: str) -> str:
    if has_scale(ctx, name):
        scale, zero = activation_facts(ctx, name)
        shown = [str(np.float32(s)) for s in scale]
        return f"{name!r} (codes of scale {shown[0] if len(shown) == 1 else shown}, zero point {zero[0]:g})"
    if name in ctx.chains:
        return f"{name!r} (float work on {ctx.chains[name]['source']!r}, not quantized)"
    return f"{name!r} ({'not quantized' if ctx.tensor(name).type is None else ctx.tensor(name).type})"


def dispatch(applies, float_scaled, standard=None):
    """A converter: `float_scaled` where `applies(ctx, node)` (or there is no `standard`), else `standard`."""

    def convert(ctx: ImportContext, n: OnnxNode) -> None:
        if applies(ctx, n) or standard is None:
            float_scaled(ctx, n)
        else:
            standard(ctx, n)

    return convert
