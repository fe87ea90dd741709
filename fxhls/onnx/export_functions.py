"""ONNX function bodies for fxhls's own ops, so that onnxruntime (and ONNX shape inference)
run an exported model too.

Each `fxhls` node gets an `overload` naming its specialization (a Quantize per type, an
average per window and channel count), and the model a local function of that overload
made of standard ops, with its constants in the graph's float type:

- Quantize to `ap_[u]fixed<W, I, Q, O>`, F = W - I: the steps of
  `fxhls.fixed.quantize_numpy`, each exact in the body's float type: q = x * 2^F (a tiny x
  keeps its sign), clamped to the wrap bound for AP_WRAP; the rounding mode Q as Floor,
  Round (ties to even) and Round with its ties corrected (q - Round(q) is exactly +-1/2 at
  a tie); the overflow mode O as Clip (AP_SAT, AP_SAT_SYM), Where (AP_SAT_ZERO) or a floor
  modulo 2^W (AP_WRAP) on the code; then the code times 2^-F, plus 0.
- Sign: +1 where x >= 0, else -1.
- AveragePool and GlobalAveragePool: the exact window sum (a depthwise Conv with a
  kernel of ones, or ReduceSum), times 1/N as `fxhls.fixed.reciprocal` gives it.
- Softmax: the IR Softmax's algorithm (`fxhls.ir.ops.softmax`) with its own tables as
  constants: the code differences from the channels' max (clamped to the exp table's last
  entry) index the exp table, the exact sum is quantized to the sum type (a Quantize body),
  its code indexes the reciprocal table, and the exact product is quantized to the output
  type; in float64, where the sum and the product are exact (else no body).

- Gemm and Conv with a narrowed accumulator (`acc_type`, rounded and overflowed at every
  step): a Loop over the terms in the IR's order, bias first, each step Mul, Add and the
  accumulator's Quantize body, in float64 (`export_acc_body`); no body where float64 does
  not hold every product and partial sum exactly, or the inputs arrive rounded into the
  function's float type (onnxruntime then refuses the model; fxhls emulates it exactly).
"""

from __future__ import annotations

import copy
import re
from types import SimpleNamespace

import numpy as np
import onnx
from onnx import helper, numpy_helper

from fxhls.fixed import FixedType, reciprocal
from fxhls.fixed.formats import fits_exactly, wrap_bound
from fxhls.ir import Graph
from fxhls.ir.ops.quantize import node_type
from fxhls.ir.ops.softmax import exp_entries, reciprocal_entries, softmax_types, sum_range

from .export_acc_body import accumulator_body

DOMAIN = "fxhls"
OPSET = 17
_INPUTS = ("x", "w", "b")  # a function's inputs: x, or a Gemm's or Conv's x, w[, b]


def add_functions(proto: onnx.ModelProto, graph: Graph, computes_in: dict, cast_from: dict | None = None) -> None:
    """Give every fxhls node of `proto` an overload and `proto` its function, computing in the
    float type `computes_in[node name]`; `graph` (the imported IR of `proto`) gives input shapes
    and types, of the value a Cast read where an input is a Cast's (`cast_from`, if given)."""
    bodies: dict[tuple[str, str], tuple[list, type, tuple]] = {}  # (op, overload) -> (body, float type, inputs)
    for node in proto.graph.node:
        if node.domain != DOMAIN:
            continue
        dtype = computes_in[node.name]
        made = _specialize(node, lambda i=0: graph.tensor((cast_from or {}).get(node.input[i], node.input[i])), dtype)
        if made is None:
            continue
        specialization, nodes = made
        spelled = f"{specialization} {np.dtype(dtype).name}".replace("-", " minus ")  # <6,-1> is not <6,1>
        node.overload = re.sub(r"[^A-Za-z0-9]+", "_", spelled).strip("_")
        bodies.setdefault((node.op_type, node.overload), (nodes, dtype, _INPUTS[:len(node.input)]))
    for (op, overload), (nodes, dtype, inputs) in bodies.items():
        function = helper.make_function(DOMAIN, op, list(inputs), ["y"], [_typed(n, dtype) for n in nodes],
                                        [helper.make_opsetid("", OPSET)])
        function.overload = overload
        proto.functions.append(function)


def _specialize(node, x, dtype):
    """(overload, body nodes) for an fxhls node computing in float `dtype`, `x(i)` giving the IR
    tensor its input i holds (default 0), or None for one without a body."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if "acc_type" in attrs:  # a Gemm or Conv with a narrowed accumulator
        acc = FixedType.parse(attrs["acc_type"].decode())

        def cast(prefix: str, value: str, result: str) -> list:
            return [_typed(n, np.float64) for n in _renamed(_quantize_body(acc), prefix, value, result)]

        return accumulator_body(node, attrs, x, dtype, acc, cast)
    if node.op_type == "Quantize":
        t = node_type({k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()})
        return str(t), _quantize_body(t)
    if node.op_type == "Sign":
        return "sign", [_const("zero", 0.0), _const("plus", 1.0), _const("minus", -1.0),
                         helper.make_node("GreaterOrEqual", ["x", "zero"], ["positive"]),
                         helper.make_node("Where", ["positive", "plus", "minus"], ["y"])]
    if node.op_type == "Softmax":
        return _softmax_body(attrs, x())
    if node.op_type not in ("AveragePool", "GlobalAveragePool"):
        return None
    channels, height, width = x().shape
    rtype = FixedType.parse(attrs["reciprocal_type"].decode())
    if node.op_type == "GlobalAveragePool":
        return (f"{height}x{width} {rtype}",
                [_const("axes", np.array([2, 3], dtype=np.int64)),
                 helper.make_node("ReduceSum", ["x", "axes"], ["sum"], keepdims=1),
                 _const("inverse", reciprocal(height * width, rtype)),
                 helper.make_node("Mul", ["sum", "inverse"], ["y"])])
    kh, kw = attrs["kernel_shape"]
    strides = list(attrs.get("strides", [1, 1]))
    return (f"{kh}x{kw} stride {strides[0]}x{strides[1]} {channels} channels {rtype}",
            [_const("ones", np.ones((channels, 1, kh, kw))),
             helper.make_node("Conv", ["x", "ones"], ["sum"], group=channels, kernel_shape=[kh, kw], strides=strides),
             _const("inverse", reciprocal(kh * kw, rtype)),
             helper.make_node("Mul", ["sum", "inverse"], ["y"])])


_ROUNDING = {  # the code for q = x * 2^F: nodes from "q" (with c = Round(q), d = q - c) to "r"
    "AP_TRN": [("Floor", ["q"], "r")],
    "AP_TRN_ZERO": [("Abs", ["q"], "size"), ("Floor", ["size"], "whole"), ("Sign", ["q"], "sign"),
                    ("Mul", ["sign", "whole"], "r")],
    "AP_RND_CONV": [("Round", ["q"], "r")],
    # Round then correct the ties, as fxhls.fixed.quantize_numpy does: d is exactly +-1/2 at a
    # tie, where Floor(q + 1/2) would round up just below one.
    "AP_RND": [("Equal", ["d", "half"], "tie"), ("Add", ["c", "one"], "up"), ("Where", ["tie", "up", "c"], "r")],
    "AP_RND_MIN_INF": [("Equal", ["d", "minus_half"], "tie"), ("Sub", ["c", "one"], "down"),
                       ("Where", ["tie", "down", "c"], "r")],
    "AP_RND_INF": [("Abs", ["d"], "distance"), ("Equal", ["distance", "half"], "tie"), ("Sign", ["q"], "sign"),
                   ("Mul", ["sign", "half"], "away"), ("Add", ["q", "away"], "outward"),
                   ("Where", ["tie", "outward", "c"], "r")],
    "AP_RND_ZERO": [("Abs", ["d"], "distance"), ("Equal", ["distance", "half"], "tie"), ("Sign", ["q"], "sign"),
                    ("Mul", ["sign", "half"], "away"), ("Sub", ["q", "away"], "inward"),
                    ("Where", ["tie", "inward", "c"], "r")],
}


def _quantize_body(t: FixedType) -> list:
    """The steps of `fxhls.fixed.quantize_numpy` in ONNX ops (each exact in the body's float type)."""
    high = t.max_code
    low = -high if t.overflow == "AP_SAT_SYM" and t.signed else t.min_code
    nodes = [_const("scale", 2.0**t.frac_bits), _const("half", 0.5), _const("minus_half", -0.5),
             _const("one", 1.0), _const("lsb", 2.0**-t.frac_bits), _const("low", float(low)),
             _const("high", float(high)), helper.make_node("Mul", ["x", "scale"], ["scaled"])]
    if t.frac_bits < 0:  # a tiny x that underflows to 0 keeps its sign (floor(-tiny) is -1)
        nodes += [_const("zero", 0.0), _const("quarter", 0.25), helper.make_node("Equal", ["scaled", "zero"], ["lost"]),
                  helper.make_node("Sign", ["x"], ["x_sign"]), helper.make_node("Mul", ["x_sign", "quarter"], ["tiny"]),
                  helper.make_node("Where", ["lost", "tiny", "scaled"], ["unclamped"])]
    else:
        nodes.append(helper.make_node("Identity", ["scaled"], ["unclamped"]))
    if t.overflow == "AP_WRAP":  # past the bound every value wraps alike, below it every step is exact
        nodes += [("wrap_bound", "bound", t), helper.make_node("Neg", ["bound"], ["minus_bound"]),
                  helper.make_node("Clip", ["unclamped", "minus_bound", "bound"], ["q"])]
    else:
        nodes.append(helper.make_node("Identity", ["unclamped"], ["q"]))
    nodes += [helper.make_node("Round", ["q"], ["c"]), helper.make_node("Sub", ["q", "c"], ["d"])]
    nodes += [helper.make_node(op, inputs, [out]) for op, inputs, out in _ROUNDING[t.rounding]]
    if t.overflow in ("AP_SAT", "AP_SAT_SYM"):
        nodes.append(helper.make_node("Clip", ["r", "low", "high"], ["code"]))
    elif t.overflow == "AP_SAT_ZERO":
        nodes += [_const("zero_code", 0.0), helper.make_node("Less", ["r", "low"], ["under"]),
                  helper.make_node("Greater", ["r", "high"], ["over"]),
                  helper.make_node("Or", ["under", "over"], ["outside"]),
                  helper.make_node("Where", ["outside", "zero_code", "r"], ["code"])]
    else:  # AP_WRAP: r - 2^W * floor(r / 2^W + (1/2 if signed)), exact below the wrap bound
        nodes += [_const("span", 2.0**t.width), _const("inverse_span", 2.0**-t.width),
                  _const("centre", 0.5 if t.signed else 0.0),
                  helper.make_node("Mul", ["r", "inverse_span"], ["turns"]),
                  helper.make_node("Add", ["turns", "centre"], ["centred"]),
                  helper.make_node("Floor", ["centred"], ["whole_turns"]),
                  helper.make_node("Mul", ["whole_turns", "span"], ["wrapped"]),
                  helper.make_node("Sub", ["r", "wrapped"], ["code"])]
    nodes += [helper.make_node("Mul", ["code", "lsb"], ["unsigned_zero"]), _const("plus_zero", 0.0),
              helper.make_node("Add", ["unsigned_zero", "plus_zero"], ["y"])]  # -0 becomes +0, as C++ stores it
    return nodes


def _softmax_body(attrs: dict, x):
    """(overload, body) of a Softmax over the channels of `x` (an IR tensor), or None where
    its sum or product is not exact in float64."""
    attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
    types = softmax_types(SimpleNamespace(attrs=attrs), x.type, x.shape[0])
    product = FixedType(types.exp.width + types.reciprocal.width, types.exp.int_bits + types.reciprocal.int_bits, False)
    if not (fits_exactly(types.exact_sum, np.float64) and fits_exactly(product, np.float64)):
        return None
    exp, reciprocal = exp_entries(types.x, types.exp), reciprocal_entries(types)
    lo, _ = sum_range(types)
    nodes = [
        helper.make_node("ReduceMax", ["x"], ["max"], axes=[1], keepdims=1),
        helper.make_node("Sub", ["max", "x"], ["distance"]),
        _const("x_scale", 2.0**types.x.frac_bits), helper.make_node("Mul", ["distance", "x_scale"], ["k"]),
        _const("last", float(len(exp) - 1)), helper.make_node("Min", ["k", "last"], ["k_clamped"]),
        helper.make_node("Cast", ["k_clamped"], ["k_index"], to=onnx.TensorProto.INT64),
        _const("exp_table", np.ldexp(exp.astype(np.float64), -types.exp.frac_bits)),
        helper.make_node("Gather", ["exp_table", "k_index"], ["e"]),
        _const("channel_axis", np.array([1], dtype=np.int64)),
        helper.make_node("ReduceSum", ["e", "channel_axis"], ["total"], keepdims=1),
        *_renamed(_quantize_body(types.sum), "sum_cast_", "total", "s"),
        _const("sum_scale", 2.0**types.sum.frac_bits), helper.make_node("Mul", ["s", "sum_scale"], ["s_code"]),
        _const("lo", float(lo)), helper.make_node("Sub", ["s_code", "lo"], ["j"]),
        helper.make_node("Cast", ["j"], ["j_index"], to=onnx.TensorProto.INT64),
        _const("reciprocal_table", np.ldexp(reciprocal.astype(np.float64), -types.reciprocal.frac_bits)),
        helper.make_node("Gather", ["reciprocal_table", "j_index"], ["r"]),
        helper.make_node("Mul", ["e", "r"], ["product"]),
        *_renamed(_quantize_body(types.out), "out_cast_", "product", "y"),
    ]
    spelled = f"{types.x} {types.classes} {types.exp} {types.sum} {types.reciprocal} {types.out}"
    return spelled, nodes


def _renamed(nodes: list, prefix: str, x: str, y: str) -> list:
    """A body's `nodes` (from "x" to "y") reading `x` and writing `y`, every other name prefixed."""
    def name(n: str) -> str:
        return x if n == "x" else y if n == "y" else prefix + n

    renamed = []
    for node in nodes:
        if isinstance(node, tuple):
            renamed.append((node[0], name(node[1]), *node[2:]))
        else:
            node = copy.deepcopy(node)
            node.input[:] = [name(n) for n in node.input]
            node.output[:] = [name(n) for n in node.output]
            renamed.append(node)
    return renamed


def _const(name: str, value) -> tuple:
    """A constant, typed when the function is written (the graph's float type)."""
    return ("const", name, np.asarray(value))


def _typed(node, dtype: np.dtype):
    if isinstance(node, tuple) and node[0] == "wrap_bound":  # the bound depends on the float type
        _, name, t = node
        node = ("const", name, np.asarray(wrap_bound(t, dtype)))
    if not (isinstance(node, tuple) and node[0] == "const"):
        return node
    _, name, value = node
    value = value if value.dtype == np.int64 else value.astype(dtype)
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name))
