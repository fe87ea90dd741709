"""ONNX function bodies for fxhls's own ops, so that onnxruntime (and ONNX shape inference)
run an exported model too.

Each `fxhls` node gets an `overload` naming its specialization (a Quantize per type, an
average per window and channel count), and the model a local function of that overload
made of standard ops, with its constants in the graph's float type:

- Quantize to `ap_[u]fixed<W, I, Q, O>`, F = W - I: q = x * 2^F; the rounding mode Q
  as Floor, Round (ties to even) and Sign/Abs/Neg around Floor(|q| + 1/2); the overflow
  mode O as Clip (AP_SAT, AP_SAT_SYM), Where (AP_SAT_ZERO) or a floor modulo 2^W
  (AP_WRAP) on the code; then the code times 2^-F.
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


_ROUNDING = {  # the code for q = x * 2^F: nodes from "q" to "r"
    "AP_TRN": [("Floor", ["q"], "r")],
    "AP_RND_CONV": [("Round", ["q"], "r")],
    "AP_RND": [("Add", ["q", "half"], "up"), ("Floor", ["up"], "r")],
    "AP_RND_MIN_INF": [("Neg", ["q"], "minus"), ("Add", ["minus", "half"], "up"), ("Floor", ["up"], "down"),
                       ("Neg", ["down"], "r")],
    "AP_TRN_ZERO": [("Abs", ["q"], "size"), ("Floor", ["size"], "whole"), ("Sign", ["q"], "sign"),
                    ("Mul", ["sign", "whole"], "r")],
    "AP_RND_INF": [("Abs", ["q"], "size"), ("Add", ["size", "half"], "up"), ("Floor", ["up"], "whole"),
                   ("Sign", ["q"], "sign"), ("Mul", ["sign", "whole"], "r")],
    "AP_RND_ZERO": [("Abs", ["q"], "size"), ("Neg", ["size"], "minus"), ("Add", ["minus", "half"], "up"),
                    ("Floor", ["up"], "down"), ("Neg", ["down"], "whole"), ("Sign", ["q"], "sign"),
                    ("Mul", ["sign", "whole"], "r")],
}


def _quantize_body(t: FixedType) -> list:
    high = t.max_code
    low = -high if t.overflow == "AP_SAT_SYM" and t.signed else t.min_code
    nodes = [_const("scale", 2.0**t.frac_bits), _const("half", 0.5), _const("lsb", 2.0**-t.frac_bits),
             _const("low", float(low)), _const("high", float(high)), helper.make_node("Mul", ["x", "scale"], ["q"])]
    nodes += [helper.make_node(op, inputs, [out]) for op, inputs, out in _ROUNDING[t.rounding]]
    if t.overflow in ("AP_SAT", "AP_SAT_SYM"):
        nodes.append(helper.make_node("Clip", ["r", "low", "high"], ["code"]))
    elif t.overflow == "AP_SAT_ZERO":
        nodes += [_const("zero", 0.0), helper.make_node("Less", ["r", "low"], ["under"]),
                  helper.make_node("Greater", ["r", "high"], ["over"]),
                  helper.make_node("Or", ["under", "over"], ["outside"]),
                  helper.make_node("Where", ["outside", "zero", "r"], ["code"])]
    else:  # AP_WRAP: low + (r - low) mod 2^W, the modulo as t - 2^W * floor(t / 2^W)
        nodes += [_const("span", 2.0**t.width), _const("inverse_span", 2.0**-t.width),
                  helper.make_node("Sub", ["r", "low"], ["offset"]),
                  helper.make_node("Mul", ["offset", "inverse_span"], ["turns"]),
                  helper.make_node("Floor", ["turns"], ["whole_turns"]),
                  helper.make_node("Mul", ["whole_turns", "span"], ["wrapped"]),
                  helper.make_node("Sub", ["offset", "wrapped"], ["rest"]),
                  helper.make_node("Add", ["rest", "low"], ["code"])]
    nodes.append(helper.make_node("Mul", ["code", "lsb"], ["y"]))
    return nodes


def _const(name: str, value) -> tuple:
    """A constant, typed when the function is written (the graph's float type)."""
    return ("const", name, np.asarray(value))


def _typed(node, dtype: np.dtype):
    if not (isinstance(node, tuple) and node[0] == "const"):
        return node
    _, name, value = node
    value = value if value.dtype == np.int64 else value.astype(dtype)
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name))
