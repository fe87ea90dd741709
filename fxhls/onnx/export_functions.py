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

A Gemm or Conv with a narrowed accumulator (`acc_type`) rounds at every step; it has no
body, so onnxruntime refuses such a model (fxhls emulates it exactly).
"""

from __future__ import annotations

import re

import numpy as np
import onnx
from onnx import helper, numpy_helper

from fxhls.fixed import FixedType, reciprocal
from fxhls.fixed.formats import wrap_bound
from fxhls.ir import Graph
from fxhls.ir.ops.quantize import node_type

DOMAIN = "fxhls"
OPSET = 17


def add_functions(proto: onnx.ModelProto, graph: Graph, computes_in: dict) -> None:
    """Give every fxhls node of `proto` an overload and `proto` its function, computing in the
    float type `computes_in[node name]`; `graph` (the imported IR of `proto`) gives input shapes."""
    bodies: dict[tuple[str, str], tuple[list, type]] = {}  # (op, overload) -> (body, float type)
    for node in proto.graph.node:
        if node.domain != DOMAIN:
            continue
        made = _specialize(node, graph)
        if made is None:
            continue
        specialization, nodes = made
        dtype = computes_in[node.name]
        spelled = f"{specialization} {np.dtype(dtype).name}".replace("-", " minus ")  # <6,-1> is not <6,1>
        node.overload = re.sub(r"[^A-Za-z0-9]+", "_", spelled).strip("_")
        bodies.setdefault((node.op_type, node.overload), (nodes, dtype))
    for (op, overload), (nodes, dtype) in bodies.items():
        function = helper.make_function(DOMAIN, op, ["x"], ["y"], [_typed(n, dtype) for n in nodes],
                                        [helper.make_opsetid("", OPSET)])
        function.overload = overload
        proto.functions.append(function)


def _specialize(node, graph: Graph):
    """(overload, body nodes) for an fxhls node, or None for one without a body."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == "Quantize":
        t = node_type({k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()})
        return str(t), _quantize_body(t)
    if node.op_type == "Sign":
        return "sign", [_const("zero", 0.0), _const("plus", 1.0), _const("minus", -1.0),
                         helper.make_node("GreaterOrEqual", ["x", "zero"], ["positive"]),
                         helper.make_node("Where", ["positive", "plus", "minus"], ["y"])]
    if node.op_type not in ("AveragePool", "GlobalAveragePool"):
        return None  # Gemm or Conv with a narrowed accumulator
    channels, height, width = graph.tensor(node.input[0]).shape
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
