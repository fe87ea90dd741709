"""Float-scaled QONNX -> IR: the ops on float-scaled codes and float chains (see `float_scaled`).

Gemm, MatMul (on a vector) and Conv of codes are exact integer work (a float chain on codes
of a few bits before them is read as the codes of the grid that holds its float32 values
exactly; on the untyped float input of a quantized model they are the host head's first
layer, float32 as onnxruntime computes it, up to the first quantizer); the float value after
them, fl32(s_x * s_w * acc + bias), starts a float chain on the accumulator, which
element-wise ops with a constant (Mul, Add, Sub, Div, Relu, a BatchNormalization that is
no exact Affine) and, in a QONNX model, the activations of `fxhls.fixed.functions`
(Sigmoid, Tanh, ...; on codes too) extend without adding IR nodes. An Add of codes of one
scale is integer work where their float32 values are exact, else an exact sum of those
values (one table per operand) and the Add's one rounding; ops that move codes (Flatten,
Reshape, Transpose, MaxPool) or average them over a power-of-two window keep their scale. A float chain or float-scaled codes that are a graph
output become a HostFloat.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from fxhls.fixed import FixedType, exact_type, result_type
from fxhls.fixed.float32 import dense_is_exact, per_channel, run_chain
from fxhls.fixed.functions import FUNCTIONS, evaluate, monotone, parameters
from fxhls.ir import Node
from fxhls.ir.ops import table
from fxhls.ir.ops.quantize import type_attrs

from . import batchnorm, float_average, float_scaled, float_values as values, shape_ops, standard_ops, table_ops
from .context import ImportContext, OnnxNode
from .float_types import HOW_TO_TYPE

FLOAT32_BITS = 24  # float32 holds every value of a fixed-point type at most this wide


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
        chain = values.chain_of(ctx, value, n)
        shape = values.shape_of(ctx, chain)
        c = np.asarray(values.channel_vector(values.float32_of_static(ctx, constant, n), shape, 0, "constant", n),
                       dtype=np.float32)
        if op == "Div" and value == b:
            raise n.refuse("divides a constant by a float value (not monotone); only value / constant is supported")
        if op == "Sub":
            step = {"op": "sub_from", "constant": c.tolist()} if value == b else {"op": "add",
                                                                                 "constant": (-c).tolist()}
        else:
            step = {"op": op.lower(), "constant": c.tolist()}
        ctx.chains[n.outputs[0]] = values.extended(chain, step, n)

    return convert


def _add_codes(ctx: ImportContext, n: OnnxNode) -> None:
    """An Add of two float-scaled values (a residual add). ONNX adds their float32 values
    fl32(s * q) (each rounded once by its Quant) and rounds the sum once.
    - Codes of one scale s and zero point 0 where s * v is exact in float32 for every sum v
      of codes: the values are s * q exactly, and the Add is the integer sum of the codes,
      of scale s.
    - Else (other scales, or values that round): each operand's float32 values, a table of
      its codes (`Dequantize`), exact fixed-point numbers; their exact sum; and its one
      rounding, the start of a float chain.
    Refused, naming both, where an operand is no per-tensor float-scaled codes or its codes
    are too wide for a table."""
    facts = [values.activation_facts(ctx, name) if values.has_scale(ctx, name) else None for name in n.inputs]
    if None in facts or any(len(scale) != 1 or len(zero) != 1 for scale, zero in facts):
        raise n.refuse(f"adds {_both(ctx, n)}; an Add of two values is supported on codes of a per-tensor scale")
    if facts[0] == facts[1] and facts[0][1] == [0.0] and _exact_sum(ctx, n, facts[0][0][0]):
        standard_ops.CONVERTERS["Add"](ctx, n)
        ctx.tensor(n.outputs[0]).facts.update(scale=np.float32(facts[0][0][0]), zero_point=np.float32(0))
        return
    operands = []
    for name, (scale, zero) in zip(n.inputs, facts):
        codes = ctx.tensor(name).type
        if codes.width > table.MAX_INPUT_BITS:
            raise n.refuse(f"adds {_both(ctx, n)}: their float32 values round, so each is read from a table of its "
                           f"codes, and the codes of {name!r} ({codes}) are wider than the {table.MAX_INPUT_BITS} "
                           f"bits a table takes")
        entries = evaluate("Dequantize", _grid(ctx.tensor(name).type), {"scale": scale[0], "zero": zero[0]})
        operand = ctx.fresh(f"{name}_value")
        ctx.add(Node("Table", ctx.node_name(f"{n.name}_{name}_value"), [ctx.name(name)], [operand],
                     {"function": "Dequantize", "scale": scale[0], "zero": zero[0],
                      **type_attrs(exact_type(entries, signed=True))}), n)
        operands.append(operand)
    total = ctx.fresh(f"{n.outputs[0]}_exact")
    standard_ops.CONVERTERS["Add"](ctx, replace(n, inputs=operands, outputs=[total]))
    ctx.chains[n.outputs[0]] = {"source": total, "chain": {"rescale": {"zero": [0.0], "scales": [], "node": n.name},
                                                          "steps": []}}


def _both(ctx: ImportContext, n: OnnxNode) -> str:
    return " and ".join(values.described(ctx, name) for name in n.inputs)


def _grid(t: FixedType) -> np.ndarray:
    return np.arange(t.min_code, t.max_code + 1, dtype=np.float64) * t.lsb


def _exact_sum(ctx: ImportContext, n: OnnxNode, scale: float) -> bool:
    """Whether scale * v is a float32 number for every sum v of the Add's codes."""
    a, b = (ctx.tensor(name).type for name in n.inputs)
    largest = max(abs(a.min_code), a.max_code) + max(abs(b.min_code), b.max_code)
    significand = abs(int(np.float32(scale).view(np.int32)) & 0x7FFFFF | 0x800000)
    odd = significand >> ((significand & -significand).bit_length() - 1)
    return odd.bit_length() + largest.bit_length() <= 24


def _batch_normalization(ctx: ImportContext, n: OnnxNode) -> None:
    """x * scale + shift per channel, folded and computed in float32 as onnxruntime does."""
    parameters = [ctx.constant(name) for name in n.inputs[1:5]]
    if any(p is None for p in parameters) or n.attrs.get("training_mode", 0) or len(n.outputs) > 1:
        raise n.refuse("only inference with constant parameters is supported")
    gamma, beta, mean, variance = (p.astype(np.float32).reshape(-1) for p in parameters)
    scale = gamma * (np.float32(1) / np.sqrt(variance + np.float32(n.attrs.get("epsilon", 1e-5))))
    shift = beta - mean * scale
    chain = values.extended(values.chain_of(ctx, n.inputs[0], n), {"op": "mul", "constant": scale.tolist()}, n)
    ctx.chains[n.outputs[0]] = values.extended(chain, {"op": "add", "constant": shift.tolist()}, n)


def _relu(ctx: ImportContext, n: OnnxNode) -> None:
    ctx.chains[n.outputs[0]] = values.extended(values.chain_of(ctx, n.inputs[0], n), {"op": "relu"}, n)


def _function(ctx: ImportContext, n: OnnxNode) -> None:
    """Sigmoid, Tanh, ... (`fxhls.fixed.functions`) in a QONNX model: one more step of the
    chain, the float32 of the float64 function; on codes it starts a chain of their value."""
    params = parameters(n.op_type, n.attrs)
    if not monotone(n.op_type, params):
        raise n.refuse(f"alpha={params['alpha']:g} makes {n.op_type} fall, then rise; on a float value only a "
                       f"monotone function is supported (alpha >= 0)")
    step = {"op": "function", "function": n.op_type, "params": params}
    ctx.chains[n.outputs[0]] = values.extended(values.chain_of(ctx, n.inputs[0], n), step, n)


def _function_applies(ctx: ImportContext, n: OnnxNode) -> bool:
    """A chain step in a QONNX model, or on a float chain or float-scaled codes; else a table."""
    return ctx.qonnx or n.inputs[0] in ctx.chains or values.has_scale(ctx, n.inputs[0])


def _elementwise_applies(ctx: ImportContext, n: OnnxNode) -> bool:
    return any(values.is_float_value(ctx, i) or values.has_scale(ctx, i) for i in n.inputs if not ctx.is_static(i)) \
        or _rounds_in_float32(ctx, n)


def _rounds_in_float32(ctx: ImportContext, n: OnnxNode) -> bool:
    """A Mul, Add or Sub of a fixed-point value and a fixed-point constant in a QONNX model
    whose exact result is wider than float32's 24 bits (a BatchNorm written as Mul and Add
    with 32-bit quantized parameters): qonnx computes it in float32, which rounds, so it is
    float work on the value (a chain), not exact fixed-point arithmetic. Not where the user
    typed the model's float input (`--input-type`): its fixed-point values are then computed
    exactly, as hls4ml computes them."""
    if not ctx.qonnx or ctx.typed_input or n.op_type == "Div" or len(n.inputs) != 2:
        return False
    static = [ctx.is_static(i) for i in n.inputs]
    if static.count(True) != 1:
        return False
    value, constant = ctx.tensor(n.inputs[static.index(False)]), ctx.tensor(n.inputs[static.index(True)])
    if value.type is None or constant.type is None:
        return False
    return result_type("mul" if n.op_type == "Mul" else "add", value.type, constant.type).width > FLOAT32_BITS


def _dense_applies(ctx: ImportContext, n: OnnxNode) -> bool:
    return any(i in ctx.chains or values.has_scale(ctx, i) for i in n.inputs[:2])


def _dense(op: str):
    """Gemm, MatMul or Conv of codes: the standard converter on the codes, without the bias,
    and a float chain fl32(s_x * s_w * acc + bias) on the accumulator."""
    standard = {"Gemm": standard_ops.gemm, "MatMul": standard_ops.matmul, "Conv": standard_ops.conv}[op]

    def convert(ctx: ImportContext, n: OnnxNode) -> None:
        x, w = n.inputs[:2]
        if _on_the_float_input(ctx, x):
            _host_layer(ctx, n)
            return
        if x in ctx.chains:
            x = _exact_codes(ctx, n, x)
            n = replace(n, inputs=[x, *n.inputs[1:]])
        if not ctx.is_static(w):
            raise n.refuse(f"its weight {w!r} is computed at run time; only constant or quantized constant "
                           f"weights are supported")
        if op == "MatMul" and len(ctx.tensor(x).shape) != 1:
            raise n.refuse("a float-scaled MatMul on more than a vector per sample is not supported")
        weights = ctx.tensor(w)
        out_axis = 0 if op == "Conv" or (op == "Gemm" and n.attrs.get("transB", 0)) else 1
        x_scale = _input_scale(ctx, n, op, weights.shape[out_axis])
        if "scale" in weights.facts:
            if bool((weights.facts["zero_point"] != 0).any()):
                raise n.refuse(f"its weight {w!r} has a non-zero zero point; only 0 is supported")
            w_scale = values.channel_vector(weights.facts["scale"], weights.shape, out_axis, "weight scale", n)
        else:
            w_scale = [1.0]
        outputs = weights.shape[out_axis]
        bias = None
        if len(n.inputs) > 2 and n.inputs[2]:
            bias = values.channel_vector(values.float32_of_static(ctx, n.inputs[2], n), (outputs,), 0, "bias", n)
        accumulator = ctx.fresh(f"{n.outputs[0]}_acc")
        codes = ctx.name(x)
        standard(ctx, replace(n, inputs=n.inputs[:2], outputs=[accumulator]))
        ctx.chains[n.outputs[0]] = {"source": accumulator, "chain": {
            "rescale": {"zero": [0.0], "scales": [x_scale, w_scale], "bias": bias, "node": n.name}, "steps": []}}
        if op != "Conv":
            ctx.chains[n.outputs[0]]["host"] = _host_dense(ctx, n, codes, x_scale[0], out_axis, bias)

    return convert


def _exact_codes(ctx: ImportContext, n: OnnxNode, x: str) -> str:
    """The float chain `x` on codes of a few bits (the input's `(x + 1) / 2` in FINN's
    cybersecurity MLP), read as the codes of the fixed-point type that holds each of its
    float32 values exactly: a quantizer to that grid (scale its lsb, ROUND), which
    thresholds or a multiply-and-shift compute exactly, as for any quantizer."""
    chain = ctx.chains[x]
    source = ctx.tensors[chain["source"]].type
    if source is None or source.width > table.MAX_INPUT_BITS:
        raise n.refuse(f"its input {x!r} is a float value; {n.op_type} is supported on quantized values (a Quant "
                       f"before it) or on float work on codes of at most {table.MAX_INPUT_BITS} bits")
    channels = ctx.tensors[chain["source"]].shape[0]
    grid = np.broadcast_to(_grid(source)[:, None], (2 ** source.width, channels))
    exact = exact_type(run_chain(grid, chain["chain"], channel_axis=1))
    quant = {"scale": np.float32(exact.lsb), "zero": np.float32(0), "bits": exact.width, "signed": exact.signed,
             "narrow": False, "rounding": "ROUND"}
    codes = ctx.fresh(f"{x}_exact")
    try:
        float_scaled.quantize(ctx, OnnxNode(f"{n.name}_input", n.op_type, n.domain, [x], [codes], {}), quant)
    except ValueError as err:
        reason = str(err).split("): ", 1)[-1]
        raise n.refuse(f"its input {x!r} is a float value whose float32 values are read exactly as {exact}: "
                       f"{reason}; put a Quant before it") from None
    return codes


def _on_typed_input(standard):
    """The standard converter of a Gemm, MatMul or Conv; on the untyped float input of a
    quantized model (QKeras's first layer, as qonnx converts it; a Brevitas first layer
    without an input quantizer) the host's first layer (`_host_layer`)."""

    def convert(ctx: ImportContext, n: OnnxNode) -> None:
        if _on_the_float_input(ctx, n.inputs[0]):
            _host_layer(ctx, n)
        else:
            standard(ctx, n)

    return convert


def _on_the_float_input(ctx: ImportContext, x: str) -> bool:
    """Whether `x` is the model's untyped float input, or float work on it."""
    if x in ctx.chains:
        return ctx.tensors[ctx.chains[x]["source"]].type is None
    return ctx.tensor(x).type is None and not ctx.is_static(x)


def _host_layer(ctx: ImportContext, n: OnnxNode) -> None:
    """A Gemm, MatMul or Conv with constant weights on the model's float input (or on
    element-wise float work on it): the first layer of the host head, computed in float32
    as onnxruntime computes it (`fxhls.fixed.float32`: `onnxruntime_matmul`,
    `onnxruntime_conv`); the float work after it extends the chain up to the first
    quantizer, whose HostQuantize sends the hardware its codes."""
    x, w = n.inputs[:2]
    chain = values.chain_of(ctx, x, n)
    if "dense" in chain["chain"] or "conv" in chain["chain"]:
        raise n.refuse(f"its input {x!r} is float work of another layer on the model's float input; the host "
                       f"computes one layer before the first quantizer (put a Quant between them)")
    if not ctx.is_static(w):
        raise n.refuse(f"its weight {w!r} is computed at run time; only constant or quantized constant weights "
                       f"are supported")
    shape, weights = values.shape_of(ctx, chain), values.float32_of_static(ctx, w, n)
    layer = _host_conv(ctx, n, shape, weights) if n.op_type == "Conv" else _host_gemm(ctx, n, shape, weights)
    ctx.chains[n.outputs[0]] = {"source": chain["source"], "chain": {
        "input_steps": chain["chain"]["steps"], "conv" if n.op_type == "Conv" else "dense": layer, "steps": []}}


def _host_gemm(ctx: ImportContext, n: OnnxNode, shape: tuple[int, ...], weights: np.ndarray) -> dict:
    """The dense of a host head's Gemm or MatMul on a vector per sample."""
    a = n.attrs
    if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
        raise n.refuse("only alpha=1, beta=1 and transA=0 are supported")
    if len(shape) != 1 or weights.ndim != 2:
        raise n.refuse(f"on the model's float input (a sample of shape {list(shape)}) the host computes a "
                       f"{n.op_type} of a vector with a weight matrix only")
    transposed = bool(a.get("transB", 0))
    outputs = weights.shape[0 if transposed else 1]
    return {"weights": (weights.T if transposed else weights).tolist(), "bias": _host_bias(ctx, n, outputs),
            "transposed": transposed, "node": n.name}


def _host_conv(ctx: ImportContext, n: OnnxNode, shape: tuple[int, ...], weights: np.ndarray) -> dict:
    """The conv of a host head's Conv: 2-D, group 1, dilation 1, explicit (or VALID) pads."""
    a = n.attrs
    if len(shape) != 3 or weights.ndim != 4 or a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [])):
        raise n.refuse(f"on the model's float input (a sample of shape {list(shape)}) the host computes a 2-D Conv "
                       f"of group 1 and dilation 1 only")
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise n.refuse(f"auto_pad={a['auto_pad']} on the model's float input; explicit pads are supported")
    return {"weights": weights.tolist(), "bias": _host_bias(ctx, n, weights.shape[0]),
            "pads": [int(p) for p in a.get("pads", [0] * 4)] if a.get("auto_pad", "NOTSET") == "NOTSET" else [0] * 4,
            "strides": [int(s) for s in a.get("strides", [1, 1])], "node": n.name}


def _host_bias(ctx: ImportContext, n: OnnxNode, outputs: int) -> list[float] | None:
    if len(n.inputs) < 3 or not n.inputs[2]:
        return None
    bias = values.channel_vector(values.float32_of_static(ctx, n.inputs[2], n), (outputs,), 0, "bias", n)
    return np.broadcast_to(np.asarray(bias, dtype=np.float32), (outputs,)).tolist()


def _host_dense(ctx: ImportContext, n: OnnxNode, codes: str, x_scale: float, out_axis: int,
                bias: list[float] | None) -> dict:
    """The Gemm or MatMul `n` as float work on the host, for where it is the last integer
    work: "source", its input codes; "chain", their values fl32(s_x * q), then the float32
    product with the weights' float32 values (qonnx's Quant output) as onnxruntime sums it;
    "exact", whether that product is exact in every order (the weights' float32 values
    being s_w * q_w, the hardware's exact sum, rounded once, is then the same)."""
    weights = values.float32_of_static(ctx, n.inputs[1], n)
    exact_weights = _exact_static(ctx, n.inputs[1])
    if out_axis == 0:
        weights, exact_weights = weights.T, None if exact_weights is None else exact_weights.T
    bias32 = None if bias is None else np.broadcast_to(np.asarray(bias, dtype=np.float32), weights.shape[1:])
    codes_type = ctx.tensors[codes].type
    largest = max(abs(codes_type.min_code), abs(codes_type.max_code))
    exact = exact_weights is not None and bool((weights == exact_weights).all()) and \
        dense_is_exact(float(np.float32(x_scale)) * codes_type.lsb, largest, weights, bias32)
    return {"source": codes, "exact": exact, "chain": {
        "rescale": {"zero": [0.0], "scales": [[x_scale]], "node": n.name},
        "dense": {"weights": weights.tolist(), "bias": None if bias32 is None else bias32.tolist(),
                  "transposed": out_axis == 0, "node": n.name},
        "steps": []}}


def _exact_static(ctx: ImportContext, name: str) -> np.ndarray:
    """The exact values of a constant weight: s * (q - z) of its codes where it is quantized;
    None where its values are computed (by an op on constants)."""
    tensor = ctx.tensor(name)
    if tensor.data is None or "scale" not in tensor.facts:
        return tensor.data
    scale, zero = (per_channel(tensor.facts[key], tensor.data.ndim, 0).astype(np.float64)
                   for key in ("scale", "zero_point"))
    return (tensor.data - zero) * scale


def _input_scale(ctx: ImportContext, n: OnnxNode, op: str, outputs: int) -> list[float]:
    """The scale of the codes input 0 of `n` as one value, or one per output channel of a
    grouped Conv: output channel o reads only the input channels of its group, so a scale
    constant within each group (a depthwise Conv: one channel per group) is exactly that
    output channel's. Refused, naming the node and the scales, where the zero point is not 0
    or the scale varies across the channels one output reads."""
    x = n.inputs[0]
    if not values.has_scale(ctx, x):
        return [1.0]
    scale, zero = values.activation_facts(ctx, x)
    groups = n.attrs.get("group", 1) if op == "Conv" else 1
    if any(z != 0.0 for z in zero):
        raise n.refuse(f"its input {x!r} has zero point {_listed(zero)}; {op} is supported on codes with zero "
                       f"point 0")
    if len(scale) == 1:
        return scale
    codes = ctx.tensor(x)
    per_group = np.asarray(values.channel_vector(codes.facts["scale"], codes.shape, 0, "input scale", n))
    per_group = np.broadcast_to(per_group, (codes.shape[0],)).reshape(groups, -1)
    if (per_group != per_group[:, :1]).any():
        where = "the channels of each of its groups" if groups > 1 else "its input channels"
        raise n.refuse(f"its input {x!r} has a per-channel scale ({_listed(scale)}) that varies across {where}; "
                       f"{op} is supported on codes with one scale per group of input channels (groups={groups})")
    return np.repeat(per_group[:, 0], outputs // groups).tolist()


def _listed(numbers: list[float], shown: int = 4) -> str:
    """`numbers` for a message: the first `shown` of them, and how many there are."""
    head = ", ".join(f"{v:.6g}" for v in numbers[:shown])
    return head if len(numbers) <= shown else f"{head}, ... ({len(numbers)} values)"


def _moving(standard):
    """An op that moves codes (Flatten, Reshape, Transpose, MaxPool) or averages them over a
    power-of-two window (exactly; the average's value is one rounding of s * the average):
    the standard converter, the result keeping the codes' one scale and zero point."""

    def convert(ctx: ImportContext, n: OnnxNode) -> None:
        x = n.inputs[0]
        if x in ctx.chains:
            raise n.refuse(f"its input {x!r} is a float value; {n.op_type} is supported on quantized values")
        scale, zero = values.activation_facts(ctx, x)
        if len(scale) != 1 or len(zero) != 1:
            raise n.refuse(f"its input {x!r} has a per-channel scale; {n.op_type} is supported on codes with one "
                           f"scale")
        window = _average_window(ctx, n)
        if window is not None and math.prod(window[0]) & (math.prod(window[0]) - 1):
            float_average.window_sum(ctx, n, scale[0], zero[0], *window)
            return
        standard(ctx, n)
        if n.op_type in ("AveragePool", "GlobalAveragePool"):
            _exact_average_type(ctx, n)
        ctx.tensor(n.outputs[0]).facts.update(scale=np.float32(scale[0]), zero_point=np.float32(zero[0]))

    return convert


def _average_window(ctx: ImportContext, n: OnnxNode) -> tuple[list[int], list[int]] | None:
    """kernel_shape and strides of an AveragePool or GlobalAveragePool on an image; None for other ops."""
    if n.op_type == "GlobalAveragePool" and len(ctx.tensor(n.inputs[0]).shape) == 3:
        return list(ctx.tensor(n.inputs[0]).shape[1:]), [1, 1]
    if n.op_type == "AveragePool" and len(n.attrs.get("kernel_shape", [])) == 2:
        window = standard_ops.pool_window(ctx, n)
        return window["kernel_shape"], window["strides"]
    return None


def _exact_average_type(ctx: ImportContext, n: OnnxNode) -> None:
    """Give the average of codes (over a power-of-two window: the standard converter refuses
    others) the type that holds it exactly, as its node's cast: the input's range, log2(N)
    more fractional bits."""
    average, codes = ctx.tensor(n.outputs[0]), ctx.tensor(n.inputs[0])
    count = math.prod(codes.shape[1:]) // math.prod(average.shape[1:])
    exact = FixedType(codes.type.width + count.bit_length() - 1, codes.type.int_bits, codes.type.signed)
    ctx.producer(n.outputs[0]).attrs["out_type"] = str(exact)
    average.type = exact


def _moving_applies(ctx: ImportContext, n: OnnxNode) -> bool:
    return n.inputs[0] in ctx.chains or values.has_scale(ctx, n.inputs[0])


def _identity(ctx: ImportContext, n: OnnxNode) -> None:
    ctx.chains[n.outputs[0]] = ctx.chains[n.inputs[0]]


def host_tails(ctx: ImportContext, outputs: list[str]) -> None:
    """A HostFloat for every graph output that is a float chain or float-scaled codes."""
    for name in outputs:
        if name not in ctx.chains and not (values.has_scale(ctx, name) and not ctx.is_static(name)):
            continue
        output = OnnxNode(name, "graph output", "", [name], [name], {})
        chain = values.chain_of(ctx, name, output)
        if "host" in chain and not chain["host"]["exact"]:
            host = chain["host"]
            chain = {"source": host["source"], "chain": {**host["chain"], "steps": chain["chain"]["steps"]}}
        if ctx.tensors[chain["source"]].type is None:
            raise output.refuse(f"a float model (no quantizer between its input and its output): {HOW_TO_TYPE}, "
                                f"or quantize it with fxhls.qfx or Brevitas (QONNX)")
        result = ctx.fresh(f"{name}_float")
        ctx.add(Node("HostFloat", ctx.node_name(f"{name}_host"), [chain["source"]], [result],
                     {"chain": chain["chain"]}), output)
        ctx.alias(name, result)


_dispatch = values.dispatch
CONVERTERS = {
    "Identity": _dispatch(lambda ctx, n: n.inputs[0] in ctx.chains, _identity, standard_ops.identity),
    **{op: _dispatch(_elementwise_applies, _elementwise(op), standard_ops.CONVERTERS.get(op))
       for op in ("Mul", "Add", "Sub", "Div")},
    "Relu": _dispatch(_elementwise_applies, _relu, standard_ops.relu),
    **{op: _dispatch(_function_applies, _function, table_ops.table) for op in FUNCTIONS},
    "BatchNormalization": _dispatch(lambda ctx, n: not batchnorm.is_typed(n) and batchnorm.exact_affine(ctx, n) is None,
                                    _batch_normalization, batchnorm.batch_normalization),
    **{op: _dispatch(_dense_applies, _dense(op), _on_typed_input(standard_ops.CONVERTERS[op]))
       for op in ("Gemm", "MatMul", "Conv")},
    **{op: _dispatch(_moving_applies, _moving(convert), convert)
       for op, convert in (("Flatten", standard_ops.flatten), ("MaxPool", standard_ops.max_pool),
                           ("AveragePool", standard_ops.average_pool),
                           ("GlobalAveragePool", standard_ops.global_average_pool),
                           ("Reshape", shape_ops.reshape), ("Transpose", shape_ops.transpose))},
}
