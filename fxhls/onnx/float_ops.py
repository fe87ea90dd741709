"""Float-scaled QONNX -> IR: the ops on float-scaled codes and float chains (see `float_scaled`).

Gemm, MatMul (on a vector) and Conv of codes are exact integer work; the float value after
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
from fxhls.fixed.functions import FUNCTIONS, evaluate, monotone, parameters
from fxhls.ir import Node
from fxhls.ir.ops import table
from fxhls.ir.ops.quantize import type_attrs

from . import batchnorm, float_average, float_values as values, shape_ops, standard_ops, table_ops
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
        shape = ctx.tensors[chain["source"]].shape
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
    float work on the value (a chain), not exact fixed-point arithmetic."""
    if not ctx.qonnx or n.op_type == "Div" or len(n.inputs) != 2:
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
        if x in ctx.chains:
            raise n.refuse(f"its input {x!r} is a float value; {op} is supported on quantized values (a Quant "
                           f"before it)")
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
        standard(ctx, replace(n, inputs=n.inputs[:2], outputs=[accumulator]))
        ctx.chains[n.outputs[0]] = {"source": accumulator, "chain": {
            "rescale": {"zero": [0.0], "scales": [x_scale, w_scale], "bias": bias, "node": n.name}, "steps": []}}

    return convert


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
    **{op: _dispatch(_dense_applies, _dense(op), standard_ops.CONVERTERS[op]) for op in ("Gemm", "MatMul", "Conv")},
    **{op: _dispatch(_moving_applies, _moving(convert), convert)
       for op, convert in (("Flatten", standard_ops.flatten), ("MaxPool", standard_ops.max_pool),
                           ("AveragePool", standard_ops.average_pool),
                           ("GlobalAveragePool", standard_ops.global_average_pool),
                           ("Reshape", shape_ops.reshape), ("Transpose", shape_ops.transpose))},
}
