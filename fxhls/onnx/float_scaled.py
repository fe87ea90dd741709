"""Float-scaled QONNX -> IR: quantizers with any float scale, and the float work between them.

A Quant whose scale is not one power of two (or differs between channels), or whose
zero point is not 0, stores integer codes q with the value s * (q - z). In the IR such a
tensor holds the codes (an integer type) and `facts` "scale" and "zero_point", float32
arrays that broadcast against its data (a constant) or a sample (an activation).

- On a constant (a weight), the codes are computed as qonnx computes them.
- Gemm, MatMul (on a vector) and Conv of codes are exact integer work; the float value
  after them, fl32(s_x * s_w * acc + bias) (see `fxhls.fixed.float32`), is a *float chain*
  on the accumulator, which element-wise ops with a constant (Mul, Add, Sub, Div, Relu)
  extend without adding IR nodes, as does a BatchNormalization that is not an exact
  Affine (`batchnorm`), folded and computed as onnxruntime does.
- A Quant on a float chain is a MultiThreshold on the chain's exact source, derived by
  `fxhls.ir.requantize` to equal the float32 chain on every value the source can take.
- The graph input's float work before its first Quant, and that Quant, are one
  HostQuantize; a float chain (or codes) that is a graph output is a HostFloat: both
  run on the host, in float32 as ONNX computes them.

The float value of a MatMul or Conv is its exact value rounded once to float32 (the
ONNX op's one rounding). qonnx's executor sums float32 products in float32 instead, so
where the dequantized operands or their sums are not exact in float32 it can differ
from this in the last bits; where they are exact (scales with few significant bits) the
two are equal. Refused in one line: float-scaled codes with a non-zero zero point or a
per-channel activation scale into a MatMul or Conv, two float values added or
multiplied, and ops other than these on a float value.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from fxhls.fixed import FixedType
from fxhls.ir import OPS, Node
from fxhls.fixed.float32 import ROUNDING_MODES, code_range, quant_codes, rescale
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.requantize import thresholds

from . import batchnorm, qonnx_ops, shape_ops, standard_ops
from .context import ImportContext, OnnxNode

# A requantization by thresholds takes 2^bits - 1 of them per channel.
MAX_THRESHOLD_BITS = 10


# --- what is float-scaled --------------------------------------------------------------

def _is_float_value(ctx: ImportContext, name: str) -> bool:
    """A float chain, or the float graph input (as it is, or moved by a Flatten or Reshape)."""
    return name in ctx.chains or (ctx.tensor(name).type is None and not ctx.is_static(name))


def _has_scale(ctx: ImportContext, name: str) -> bool:
    return name not in ctx.chains and "scale" in ctx.tensor(name).facts


def _float_scaled_quant(ctx: ImportContext, n: OnnxNode) -> bool:
    """Not the ap_fixed cast `qonnx_ops.quant` imports: a float scale or input, a zero
    point, or a rounding or narrow range no ap_fixed mode has (that thresholds express)."""
    x, scale, zero_point = n.inputs[:3]
    if x in ctx.chains or _has_scale(ctx, x):
        return True
    mode, signed = n.attrs.get("rounding_mode", "ROUND").upper(), bool(n.attrs.get("signed", 1))
    if mode in qonnx_ops.REFUSED_ROUNDING or (n.attrs.get("narrow", 0) and not signed):
        return True
    zeros = qonnx_ops.parameter(ctx, n, zero_point, "zero point")
    return not _one_power_of_two(qonnx_ops.parameter(ctx, n, scale, "scale")) or bool((zeros != 0).any())


def _float_scaled_bipolar(ctx: ImportContext, n: OnnxNode) -> bool:
    x, scale = n.inputs[:2]
    scales = qonnx_ops.parameter(ctx, n, scale, "scale")
    return x in ctx.chains or _has_scale(ctx, x) or not _one_power_of_two(scales)


def _one_power_of_two(values: np.ndarray) -> bool:
    distinct = np.unique(values)
    return distinct.size == 1 and math.frexp(distinct.item())[0] == 0.5


# --- float values of constants, and their per-channel vectors -----------------------------

def _float32_of_static(ctx: ImportContext, name: str, n: OnnxNode) -> np.ndarray:
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


def _channel_vector(values: np.ndarray, shape: tuple[int, ...], axis: int, what: str, n: OnnxNode) -> list[float]:
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


def _activation_facts(ctx: ImportContext, name: str) -> tuple[list[float], list[float]]:
    facts = ctx.tensor(name).facts
    return np.ravel(facts["scale"]).tolist(), np.ravel(facts["zero_point"]).tolist()


# --- float chains ------------------------------------------------------------------------

def _chain_of(ctx: ImportContext, name: str, n: OnnxNode) -> dict:
    """The float chain an activation stands for: its own, or one that starts from it
    (the float input as it is, or codes as the value s * (q - z) they stand for)."""
    if name in ctx.chains:
        return ctx.chains[name]
    tensor = ctx.tensor(name)
    if tensor.type is None:
        return {"source": tensor.name, "chain": {"steps": []}}
    if "scale" in tensor.facts:
        scales = [_channel_vector(tensor.facts["scale"], tensor.shape, 0, "scale", n)]
        zero = _channel_vector(tensor.facts["zero_point"], tensor.shape, 0, "zero point", n)
    else:
        scales, zero = [], [0.0]
    rescale_ = {"zero": zero, "scales": scales, "node": n.name}
    return {"source": tensor.name, "chain": {"rescale": rescale_, "steps": []}}


def _extended(chain: dict, step: dict, n: OnnxNode) -> dict:
    """`chain` with one more step, which ONNX node `n` computes."""
    step = {**step, "node": n.name}
    return {**chain, "chain": {**chain["chain"], "steps": [*chain["chain"]["steps"], step]}}


def _elementwise(op: str):
    """Mul, Add, Sub or Div of a float value and a constant: one more step of its chain."""

    def convert(ctx: ImportContext, n: OnnxNode) -> None:
        a, b = n.inputs
        if op == "Add" and not ctx.is_static(a) and not ctx.is_static(b):
            _add_codes(ctx, n)
            return
        if ctx.is_static(a) == ctx.is_static(b):
            raise n.refuse(f"{op} of two {'constants' if ctx.is_static(a) else 'values'} on a float value; "
                           f"only a float value and a constant are supported")
        value, constant = (b, a) if ctx.is_static(a) else (a, b)
        chain = _chain_of(ctx, value, n)
        shape = ctx.tensors[chain["source"]].shape
        c = np.asarray(_channel_vector(_float32_of_static(ctx, constant, n), shape, 0, "constant", n),
                       dtype=np.float32)
        if op == "Div" and value == b:
            raise n.refuse("divides a constant by a float value (not monotone); only value / constant is supported")
        if op == "Sub":
            step = {"op": "sub_from", "constant": c.tolist()} if value == b else {"op": "add",
                                                                                 "constant": (-c).tolist()}
        else:
            step = {"op": op.lower(), "constant": c.tolist()}
        ctx.chains[n.outputs[0]] = _extended(chain, step, n)

    return convert


def _add_codes(ctx: ImportContext, n: OnnxNode) -> None:
    """An Add of two float-scaled values (a residual add): exact integer work on their codes
    where both are codes of one scale and zero point 0, else a refusal naming both."""
    scales = [_activation_facts(ctx, name) if _has_scale(ctx, name) else None for name in n.inputs]
    if None in scales or scales[0] != scales[1] or len(scales[0][0]) != 1 or scales[0][1] != [0.0]:
        described = " and ".join(_described(ctx, name) for name in n.inputs)
        raise n.refuse(f"adds {described}; an Add of two values is supported on codes of one scale with zero "
                       f"point 0 (quantize both branches alike)")
    standard_ops.CONVERTERS["Add"](ctx, n)
    ctx.tensor(n.outputs[0]).facts.update(scale=np.float32(scales[0][0][0]), zero_point=np.float32(0))


def _described(ctx: ImportContext, name: str) -> str:
    if _has_scale(ctx, name):
        scale, zero = _activation_facts(ctx, name)
        return f"{name!r} (codes of scale {scale if len(scale) > 1 else scale[0]}, zero point {zero[0]:g})"
    if name in ctx.chains:
        return f"{name!r} (float work on {ctx.chains[name]['source']!r}, not quantized)"
    return f"{name!r} ({'not quantized' if ctx.tensor(name).type is None else ctx.tensor(name).type})"


def _batch_normalization(ctx: ImportContext, n: OnnxNode) -> None:
    """x * scale + shift per channel, folded and computed in float32 as onnxruntime does."""
    parameters = [ctx.constant(name) for name in n.inputs[1:5]]
    if any(p is None for p in parameters) or n.attrs.get("training_mode", 0) or len(n.outputs) > 1:
        raise n.refuse("only inference with constant parameters is supported")
    gamma, beta, mean, variance = (p.astype(np.float32).reshape(-1) for p in parameters)
    scale = gamma * (np.float32(1) / np.sqrt(variance + np.float32(n.attrs.get("epsilon", 1e-5))))
    shift = beta - mean * scale
    chain = _extended(_chain_of(ctx, n.inputs[0], n), {"op": "mul", "constant": scale.tolist()}, n)
    ctx.chains[n.outputs[0]] = _extended(chain, {"op": "add", "constant": shift.tolist()}, n)


def _relu(ctx: ImportContext, n: OnnxNode) -> None:
    ctx.chains[n.outputs[0]] = _extended(_chain_of(ctx, n.inputs[0], n), {"op": "relu"}, n)


def _elementwise_applies(ctx: ImportContext, n: OnnxNode) -> bool:
    return any(_is_float_value(ctx, i) or _has_scale(ctx, i) for i in n.inputs if not ctx.is_static(i))


# --- quantizers ----------------------------------------------------------------------------

def _quant_attrs(ctx: ImportContext, n: OnnxNode, scale: str, zero_point: str, bit_width: str) -> dict:
    """A quant (`fxhls.fixed.float32`) of the node's attributes and these parameter inputs."""
    mode = n.attrs.get("rounding_mode", "ROUND").upper()
    if mode not in ROUNDING_MODES:
        raise n.refuse(f"unknown rounding_mode {mode!r}; supported: {', '.join(ROUNDING_MODES)}")
    return {"scale": _positive_scale(ctx, n, scale),
            "zero": qonnx_ops.parameter(ctx, n, zero_point, "zero point").astype(np.float32),
            "bits": qonnx_ops.bit_width_of(ctx, n, bit_width), "signed": bool(n.attrs.get("signed", 1)),
            "narrow": bool(n.attrs.get("narrow", 0)), "rounding": mode}


def _trunc(ctx: ImportContext, n: OnnxNode) -> None:
    """qonnx's Trunc (opset 2) on a float-scaled value: a quantizer like Quant (`fxhls.fixed.float32`)."""
    if ctx.opsets.get(n.domain, 1) < 2:
        raise n.refuse(f"Trunc of opset {ctx.opsets.get(n.domain, 1)} (before output_scale) is not supported; "
                       f"opset 2 is")
    _, scale, zero_point, _, output_scale, output_bit_width = n.inputs
    input_scale = _positive_scale(ctx, n, scale)
    input_zero = qonnx_ops.parameter(ctx, n, zero_point, "zero point").astype(np.float32)
    output = _positive_scale(ctx, n, output_scale)
    shift = np.float32(2) ** np.round(np.log2(output / input_scale))
    quant = {**_quant_attrs(ctx, n, output_scale, zero_point, output_bit_width), "zero": input_zero / shift,
             "input_scale": input_scale, "input_zero": input_zero}
    _quantize(ctx, n, quant)


def _positive_scale(ctx: ImportContext, n: OnnxNode, name: str) -> np.ndarray:
    scales = qonnx_ops.parameter(ctx, n, name, "scale").astype(np.float32)
    if not (np.isfinite(scales) & (scales > 0)).all():
        raise n.refuse(f"its scale has values that are not positive finite numbers ({scales.min()!r} to "
                       f"{scales.max()!r}); only positive scales are supported")
    return scales


def _code_type(quant: dict, offset: int = 0) -> FixedType:
    """The integer type that holds the codes less `offset` (bipolar codes -1 and +1 need 2 bits)."""
    low, high = (limit - offset for limit in code_range(quant["bits"], quant["signed"], quant["narrow"]))
    signed = low < 0
    bits = max(high.bit_length(), (-low - 1).bit_length() if signed else 0, 1) + int(signed)
    return FixedType(bits, bits, signed)


def _quant(ctx: ImportContext, n: OnnxNode) -> None:
    _quantize(ctx, n, _quant_attrs(ctx, n, *n.inputs[1:4]))


def _bipolar_quant(ctx: ImportContext, n: OnnxNode) -> None:
    scale = qonnx_ops.parameter(ctx, n, n.inputs[1], "scale").astype(np.float32)
    _quantize(ctx, n, {"scale": scale, "zero": np.zeros(1, np.float32), "bits": 1, "signed": True, "narrow": False,
                       "rounding": "SIGN"})


def _quantize(ctx: ImportContext, n: OnnxNode, quant: dict) -> None:
    """The codes of `quant` on input 0 of `n`: a constant, a HostQuantize or a MultiThreshold."""
    x, out = n.inputs[0], n.outputs[0]
    if ctx.is_static(x) and x not in ctx.chains:
        data = _float32_of_static(ctx, x, n)
        codes = quant_codes(data, quant, channel_axis=0)
        name = ctx.add_constant(out, codes.astype(np.float64), _code_type(quant))
        ctx.tensors[name].facts.update(scale=quant["scale"], zero_point=quant["zero"])
        ctx.alias(out, name)
        return
    chain = _chain_of(ctx, x, n)
    source = ctx.tensors[chain["source"]]
    per_sample = {**quant, **{key: _channel_vector(quant[key], source.shape, 0, key.replace("_", " "), n)
                              for key in ("scale", "zero", "input_scale", "input_zero") if key in quant},
                  "node": n.name}
    # One integer zero point z: the tensor holds q - z, so that the value is s * (its code).
    offset = int(per_sample["zero"][0]) if len(per_sample["zero"]) == 1 and per_sample["zero"][0].is_integer() \
        else 0
    code_type = _code_type(quant, offset)
    if source.type is None:
        ctx.add(Node("HostQuantize", n.name, [source.name], [out],
                     {"chain": chain["chain"], "quant": per_sample, "offset": offset, **type_attrs(code_type)}), n)
    else:
        if quant["bits"] > MAX_THRESHOLD_BITS:
            raise n.refuse(f"a requantization to {quant['bits']} bits takes {2 ** quant['bits'] - 1} thresholds per "
                           f"channel; at most {MAX_THRESHOLD_BITS} bits are supported")
        levels, direction, base = thresholds(chain["chain"], per_sample, source.type, source.shape[0])
        constant = ctx.add_constant(f"{n.name}_thresholds", levels, _threshold_type(source.type))
        ctx.add(Node("MultiThreshold", n.name, [source.name, constant], [out],
                     {"direction": direction, "base": base - offset, **type_attrs(code_type)}), n)
    view = (-1, *[1] * (len(ctx.tensors[out].shape) - 1))
    zero = np.array(per_sample["zero"], dtype=np.float32) - np.float32(offset)
    ctx.tensors[out].facts.update(scale=np.array(per_sample["scale"], dtype=np.float32).reshape(view),
                                  zero_point=zero.reshape(view))


def _threshold_type(source: FixedType) -> FixedType:
    """The source's grid, one bit wider: a threshold never reached lies one step beyond its range."""
    return FixedType(source.width + 1, source.int_bits + 1, True)


# --- integer work on codes -------------------------------------------------------------------

def _dense_applies(ctx: ImportContext, n: OnnxNode) -> bool:
    return any(i in ctx.chains or _has_scale(ctx, i) for i in n.inputs[:2])


def _dense(op: str):
    """Gemm, MatMul or Conv of codes: the standard converter on the codes, without the bias,
    and a float chain fl32(s_x * s_w * acc + bias) on the accumulator."""
    standard = {"Gemm": standard_ops.gemm, "MatMul": standard_ops.matmul, "Conv": standard_ops.conv}[op]

    def convert(ctx: ImportContext, n: OnnxNode) -> None:
        x, w = n.inputs[:2]
        if x in ctx.chains:
            raise n.refuse(f"its input {x!r} is a float value; {op} is supported on quantized values (a Quant "
                           f"before it)")
        if not ctx.is_static(w):
            raise n.refuse(f"its weight {w!r} is computed at run time; only constant or quantized constant "
                           f"weights are supported")
        x_scale, x_zero = _activation_facts(ctx, x) if _has_scale(ctx, x) else ([1.0], [0.0])
        if len(x_scale) != 1 or x_zero != [0.0]:
            raise n.refuse(f"its input {x!r} has a per-channel scale or a non-zero zero point; {op} is supported "
                           f"on codes with one scale and zero point 0")
        if op == "MatMul" and len(ctx.tensor(x).shape) != 1:
            raise n.refuse("a float-scaled MatMul on more than a vector per sample is not supported")
        weights = ctx.tensor(w)
        out_axis = 0 if op == "Conv" or (op == "Gemm" and n.attrs.get("transB", 0)) else 1
        if "scale" in weights.facts:
            if bool((weights.facts["zero_point"] != 0).any()):
                raise n.refuse(f"its weight {w!r} has a non-zero zero point; only 0 is supported")
            w_scale = _channel_vector(weights.facts["scale"], weights.shape, out_axis, "weight scale", n)
        else:
            w_scale = [1.0]
        outputs = weights.shape[out_axis]
        bias = None
        if len(n.inputs) > 2 and n.inputs[2]:
            bias = _channel_vector(_float32_of_static(ctx, n.inputs[2], n), (outputs,), 0, "bias", n)
        accumulator = ctx.fresh(f"{n.outputs[0]}_acc")
        standard(ctx, replace(n, inputs=n.inputs[:2], outputs=[accumulator]))
        ctx.chains[n.outputs[0]] = {"source": accumulator, "chain": {
            "rescale": {"zero": [0.0], "scales": [x_scale, w_scale], "bias": bias, "node": n.name}, "steps": []}}

    return convert


def _moving(standard):
    """An op that moves codes (Flatten, Reshape, Transpose, MaxPool) or averages them over a
    power-of-two window (exactly; the average's value is one rounding of s * the average):
    the standard converter, the result keeping the codes' one scale and zero point."""

    def convert(ctx: ImportContext, n: OnnxNode) -> None:
        x = n.inputs[0]
        if x in ctx.chains:
            raise n.refuse(f"its input {x!r} is a float value; {n.op_type} is supported on quantized values")
        scale, zero = _activation_facts(ctx, x)
        if len(scale) != 1 or len(zero) != 1:
            raise n.refuse(f"its input {x!r} has a per-channel scale; {n.op_type} is supported on codes with one "
                           f"scale")
        standard(ctx, n)
        if n.op_type in ("AveragePool", "GlobalAveragePool"):
            _exact_average_type(ctx, n)
        ctx.tensor(n.outputs[0]).facts.update(scale=np.float32(scale[0]), zero_point=np.float32(zero[0]))

    return convert


def _exact_average_type(ctx: ImportContext, n: OnnxNode) -> None:
    """Give the average of codes (over a power-of-two window: the standard converter refuses
    others) the type that holds it exactly, as its node's cast: the input's range, log2(N)
    more fractional bits."""
    average, codes = ctx.tensor(n.outputs[0]), ctx.tensor(n.inputs[0])
    count = math.prod(codes.shape[1:]) // math.prod(average.shape[1:])
    exact = FixedType(codes.type.width + count.bit_length() - 1, codes.type.int_bits, codes.type.signed)
    ctx.producer(n.outputs[0]).attrs["out_type"] = str(exact)
    average.type = exact


# --- graph outputs -----------------------------------------------------------------------------

def host_tails(ctx: ImportContext, outputs: list[str]) -> None:
    """A HostFloat for every graph output that is a float chain or float-scaled codes."""
    for name in outputs:
        if name not in ctx.chains and not (_has_scale(ctx, name) and not ctx.is_static(name)):
            continue
        output = OnnxNode(name, "graph output", "", [name], [name], {})
        chain = _chain_of(ctx, name, output)
        if ctx.tensors[chain["source"]].type is None:
            raise output.refuse("it is float work on the graph input with no quantizer; nothing for hardware to do")
        result = ctx.fresh(f"{name}_float")
        ctx.add(Node("HostFloat", ctx.node_name(f"{name}_host"), [chain["source"]], [result],
                     {"chain": chain["chain"]}), output)
        ctx.alias(name, result)


def _dispatch(applies, float_scaled, standard=None):
    def convert(ctx: ImportContext, n: OnnxNode) -> None:
        if applies(ctx, n) or standard is None:
            float_scaled(ctx, n)
        else:
            standard(ctx, n)

    return convert


def _moving_applies(ctx: ImportContext, n: OnnxNode) -> bool:
    return n.inputs[0] in ctx.chains or _has_scale(ctx, n.inputs[0])


def _identity(ctx: ImportContext, n: OnnxNode) -> None:
    ctx.chains[n.outputs[0]] = ctx.chains[n.inputs[0]]


CONVERTERS = {
    "Identity": _dispatch(lambda ctx, n: n.inputs[0] in ctx.chains, _identity, standard_ops.identity),
    **{op: _dispatch(_elementwise_applies, _elementwise(op), standard_ops.CONVERTERS.get(op))
       for op in ("Mul", "Add", "Sub", "Div")},
    "Relu": _dispatch(_elementwise_applies, _relu, standard_ops.relu),
    "BatchNormalization": _dispatch(lambda ctx, n: batchnorm.exact_affine(ctx, n) is None, _batch_normalization,
                                    batchnorm.batch_normalization),
    **{op: _dispatch(_dense_applies, _dense(op), standard_ops.CONVERTERS[op]) for op in ("Gemm", "MatMul", "Conv")},
    **{op: _dispatch(_moving_applies, _moving(convert), convert)
       for op, convert in (("Flatten", standard_ops.flatten), ("MaxPool", standard_ops.max_pool),
                           ("AveragePool", standard_ops.average_pool),
                           ("GlobalAveragePool", standard_ops.global_average_pool),
                           ("Reshape", shape_ops.reshape), ("Transpose", shape_ops.transpose))},
}
def _float_scaled_trunc(ctx: ImportContext, n: OnnxNode) -> bool:
    x, scale, zero_point = n.inputs[:3]
    zeros = qonnx_ops.parameter(ctx, n, zero_point, "zero point")
    return x in ctx.chains or _has_scale(ctx, x) or not _one_power_of_two(qonnx_ops.parameter(ctx, n, scale, "scale")) \
        or not _one_power_of_two(qonnx_ops.parameter(ctx, n, n.inputs[4], "output scale")) or bool((zeros != 0).any())


QONNX_CONVERTERS = {"Quant": _dispatch(_float_scaled_quant, _quant, qonnx_ops.quant),
                    "Trunc": _dispatch(_float_scaled_trunc, _trunc, qonnx_ops.trunc),
                    "BipolarQuant": _dispatch(_float_scaled_bipolar, _bipolar_quant, qonnx_ops.bipolar_quant)}
