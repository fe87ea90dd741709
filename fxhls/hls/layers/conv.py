"""Conv in the HLS backend: a line-buffer streaming layer (templates/hls/layers/conv2d.h)
with a MAC, K-hot shift-add or binary XNOR-popcount kernel. The MAC folds by sharing its
multipliers (the window loop's II is the reuse); K-hot and binary layers fold as FINN's
MVU (templates/hls/layers/mvu.h), SIMD inputs of PE outputs a clock, on the folds
`fxhls.rtl.folding` gives the RTL (`lane_fold`). The kernel parts (`kernel_context`,
`KERNEL_PARAMS`, `lane_fold`) serve Gemm too (dense.py)."""

from __future__ import annotations

import math

from fxhls.deploy.packing import to_codes
from fxhls.fixed import FixedType, accumulator_type
from fxhls.fixed.headers import sign_extended_for
from fxhls.ir.graph import Graph, Node
from fxhls.ir.ops.windows import conv_out_size
from fxhls.rtl.folding import fold_of_steps
from fxhls.templating import render

from . import bnn, khot
from .calls import stage_call

HEADERS = ("conv2d.h", "conv_mac.h", "khot.h", "bnn.h", "mvu.h")
# Kernel -> the names of its two constant arrays, in the order the kernel takes them.
KERNEL_PARAMS = {"mac": ("weights", "biases"), "khot": ("terms", "biases"), "bnn": ("weights", "stages")}
LANE_KERNELS = ("khot", "bnn")  # fold as the MVU of mvu.h; "mac" by its reuse factor
_NO_BIAS_TYPE = FixedType(1, 1, False)  # ap_ufixed<1,1>: holds the 0 of a layer without bias


def cpp_number(value: float) -> str:
    """An exact C++ literal for a fixed-point value (a double that holds it exactly)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def code_type(t: FixedType) -> str:
    """The plain C++ integer type that holds the codes (raw bits) of t."""
    for bits, name in ((8, "char"), (16, "short"), (32, "int"), (64, "long long")):
        if t.width <= bits:
            return f"{'signed' if t.signed else 'unsigned'} {name}"
    raise ValueError(f"weights of {t} are wider than 64 bits; the HLS backend supports up to 64")


def codes(values, t: FixedType) -> list:
    """The codes (value * 2**frac_bits, integers) of values of t, as nested lists; a
    ValueError if a value is not a multiple of t's lsb."""
    try:
        return to_codes(values, t.frac_bits).tolist()
    except ValueError as err:
        raise ValueError(f"weights are not exact values of their type {t}: {err}") from None


def kernel_kind(graph: Graph, node: Node) -> str:
    """"khot" for K-hot weights, "bnn" for binary weights with an exact accumulator,
    else "mac"."""
    weights = graph.tensor(node.inputs[1])
    if "khot" in weights.facts:
        return "khot"
    return "bnn" if bnn.is_binary_layer(graph, node) else "mac"


def conv_layer(graph: Graph, node: Node, name: str, reuse: int = 1, fold: tuple[int, int] | None = None) -> dict:
    """The C++ of one Conv layer (see `fxhls.hls.layers`): "code" (its config struct),
    "weights" (its constants), "call" (`(input, output) -> statement`), "headers";
    `name` is a safe C++ identifier, `reuse` the folding (MAC: the initiation interval per
    padded input pixel; K-hot and binary: the clocks per window, `lane_fold`, or `fold`)."""
    context = _window_context(graph, node, name, reuse) | kernel_context(graph, node, reuse, fold)
    kernel = context["kernel"]
    function = "fxhls::conv2d_mvu" if kernel in LANE_KERNELS else "fxhls::conv2d_stream"
    return {
        "code": render("hls/layers/conv2d_config.h.j2", **context),
        "weights": render("hls/layers/kernel_constants.h.j2", **context),
        "call": stage_call(function, [f"{name}_config", f"fxhls::{kernel}_kernel<{name}_config>"],
                           [f"{name}_{params}" for params in KERNEL_PARAMS[kernel]]),
        "headers": HEADERS,
    }


def lane_fold(graph: Graph, node: Node, reuse: int) -> tuple[int, int]:
    """(SIMD, PE) of a K-hot or binary Gemm/Conv at reuse `reuse`, its clocks per input
    vector: the least parallel fold of the RTL's that takes at most that many
    (`fxhls.rtl.folding.fold_of_steps`). A grouped Conv stays whole (SIMD: its group's
    inputs, PE: its outputs)."""
    weights = graph.tensor(node.inputs[1])
    if node.attrs.get("groups", 1) > 1:
        return math.prod(weights.shape[1:]), weights.shape[0]
    return fold_of_steps(graph, node, reuse)


def _window_context(graph: Graph, node: Node, name: str, reuse: int) -> dict:
    x, w = graph.tensor(node.inputs[0]), graph.tensor(node.inputs[1])
    if isinstance(reuse, bool) or not isinstance(reuse, int) or reuse < 1:
        raise ValueError(f"node {node.name!r}: reuse must be a positive integer, got {reuse!r}")
    (in_channels, in_height, in_width), (out_channels, group_channels, kernel_h, kernel_w) = x.shape, w.shape
    (stride_h, stride_w), (pad_h, pad_w) = node.attrs["strides"], node.attrs["pads"]
    n_in = group_channels * kernel_h * kernel_w  # inputs of one output: its group's channels in the window
    return dict(node=node.name, layer=name, in_type=x.type, in_channels=in_channels, in_height=in_height,
                in_width=in_width, out_height=conv_out_size(in_height, kernel_h, stride_h, pad_h),
                out_width=conv_out_size(in_width, kernel_w, stride_w, pad_w), n_out=out_channels,
                kernel_h=kernel_h, kernel_w=kernel_w,
                stride_h=stride_h, stride_w=stride_w, pad_h=pad_h, pad_w=pad_w, n_in=n_in, reuse=reuse,
                multipliers=math.ceil(n_in * out_channels / reuse))


def kernel_context(graph: Graph, node: Node, reuse: int, fold: tuple[int, int] | None = None) -> dict:
    """The template values of a Gemm/Conv node's kernel (kernel_config.h.j2 and
    kernel_constants.h.j2): its kind, groups (a grouped Conv's; 1 for the rest),
    accumulator and bias types, constants (weights, K-hot terms, or weight bits
    with thresholds or biases), each output's over the inputs of its group, and a
    K-hot or binary kernel's SIMD and PE: `fold` where given (the user's), else at
    `reuse` (`lane_fold`)."""
    x, w = graph.tensor(node.inputs[0]), graph.tensor(node.inputs[1])
    b = graph.tensor(node.inputs[2]) if len(node.inputs) > 2 else None
    n_in = math.prod(w.shape[1:])
    if "acc_type" in node.attrs:
        accum = FixedType.parse(node.attrs["acc_type"])
    else:  # exact: as many integer bits as the headers need to cast it to the output
        accum = sign_extended_for(accumulator_type(x.type, w.type, n_in, b.type if b is not None else None),
                                  graph.tensor(node.outputs[0]).type)
    context = dict(kernel=kernel_kind(graph, node), groups=node.attrs.get("groups", 1), accum_type=accum,
                   bias_type=b.type if b is not None else _NO_BIAS_TYPE,
                   biases=[cpp_number(v) for v in b.data.tolist()] if b is not None else ["0"] * w.shape[0])
    if context["kernel"] in LANE_KERNELS:
        context["simd"], context["pe"] = fold or lane_fold(graph, node, reuse)
    if context["kernel"] == "khot":
        signs, exponents = khot.khot_terms(w, node.inputs[1])
        return context | dict(khot=signs.shape[-1], term_type=khot.term_type(x.type, exponents),
                              terms=khot.term_rows(*(terms.reshape(w.shape[0], -1, terms.shape[-1])
                                                     for terms in (signs, exponents))))
    if context["kernel"] == "mac":
        return context | dict(weight_type=w.type, weight_code_type=code_type(w.type),
                              weights=codes(w.data.reshape(w.shape[0], -1), w.type))
    context |= dict(sum_type=bnn.sum_type(x.type, n_in), binary_input=bnn.holds_binary_values(graph, node.inputs[0]),
                    weights=bnn.weight_bits(w.data), thresholds=None)
    threshold = bnn.fused_threshold(graph, node)
    if threshold is not None:
        limits = graph.tensor(threshold.inputs[1])
        context |= dict(threshold_type=limits.type, thresholds=list(zip(
            [cpp_number(v) for v in limits.data.tolist()], threshold.attrs["direction"])))
    return context
