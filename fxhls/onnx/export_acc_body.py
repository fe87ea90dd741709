"""The ONNX function body of an fxhls `Gemm` or `Conv` with a narrowed accumulator (`acc_type`).

The IR's order (`fxhls.ir.ops.dense`, `fxhls.fixed.dot_with_bias`): for every output,
`acc_t s = b[o]; for (k) s += w[o, k] * x[k];`, every partial sum rounded and overflowed
into the accumulator, k running over the input features of a Gemm, or over (input channel
of the group, kernel row, kernel column) of a Conv. The body, in float64 whatever the
function's float type (its inputs are Cast in, its result Cast out, exact both ways):
s = the bias's Quantize body (zeros without a bias), expanded to the output's shape; then
a Loop over the K terms carrying s, each step gathering the term's inputs (a Gemm: column
k of x; a Conv: the strided Slice of the zero-padded x at tap k's kernel position,
Gathered at each output channel's input channel) and weights (column k of w), Mul, Add,
and the accumulator's Quantize body. A body is given only where every product and every
partial sum is exact in float64 (as `fxhls.fixed.dot` computes them step by step), and the
inputs arrive exact in the function's float type; else none.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from fxhls.fixed import FixedType, result_type
from fxhls.fixed.formats import fits_exactly
from fxhls.ir.ops.windows import conv_out_size


def accumulator_body(node, attrs: dict, tensor, dtype, acc: FixedType, cast):
    """(specialization, body nodes from "x", "w"[, "b"] to "y") of a Gemm or Conv `node` with
    the accumulator `acc`, its inputs and output in float `dtype`, or None where the body would
    not be exact. `tensor(i)` gives the IR tensor input i holds; `cast(prefix, x, y)` the
    float64 nodes of `acc`'s Quantize body from `x` to `y`, its other names prefixed."""
    inputs = [tensor(i) for i in range(len(node.input))]
    if not _exact(acc, [t.type for t in inputs], dtype):
        return None
    layout = _gemm(attrs, inputs) if node.op_type == "Gemm" else _conv(attrs, inputs)
    if layout is None:
        return None
    spelled, out_shape, prepare, term = layout
    has_bias = len(inputs) > 2

    no_bias = helper.make_tensor("bias_acc", TensorProto.DOUBLE, [], [0.0])
    start = cast("bias_cast_", "b64", "bias_acc") if has_bias else [
        helper.make_node("Constant", [], ["bias_acc"], value=no_bias)]
    step = [*term, helper.make_node("Gather", ["w_terms", "k"], ["w_k"], axis=0),
            helper.make_node("Mul", ["x_k", "w_k"], ["product"]),
            helper.make_node("Add", ["s_in", "product"], ["total"]),
            *cast("acc_", "total", "s_out"),
            helper.make_node("Identity", ["going"], ["going_on"])]
    loop = helper.make_graph(
        step, "accumulate",
        [helper.make_tensor_value_info("k", TensorProto.INT64, []),
         helper.make_tensor_value_info("going", TensorProto.BOOL, []),
         helper.make_tensor_value_info("s_in", TensorProto.DOUBLE, None)],
        [helper.make_tensor_value_info("going_on", TensorProto.BOOL, []),
         helper.make_tensor_value_info("s_out", TensorProto.DOUBLE, None)])
    terms = int(np.prod(inputs[1].shape[1:]))
    nodes = [*(helper.make_node("Cast", [name], [f"{name}64"], to=TensorProto.DOUBLE)
               for name in ("x", "w", "b")[:len(inputs)]),
             *prepare, *start,
             _ints("bias_shape", [-1] + [1] * (len(out_shape) - 1)),
             helper.make_node("Reshape", ["bias_acc", "bias_shape"], ["bias_column"]),
             helper.make_node("Shape", ["x"], ["batch"], end=1), _ints("sample_shape", out_shape),
             helper.make_node("Concat", ["batch", "sample_shape"], ["out_shape"], axis=0),
             helper.make_node("Expand", ["bias_column", "out_shape"], ["s0"]),
             _ints("terms", terms, shape=()),
             helper.make_node("Loop", ["terms", "", "s0"], ["s"], body=loop),
             helper.make_node("Cast", ["s"], ["y"], to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))]
    bias = "bias" if has_bias else "no bias"
    return f"{spelled} {bias} acc {acc}", nodes


def _exact(acc: FixedType, types: list, dtype) -> bool:
    """Whether the inputs arrive exact in `dtype`, and float64 holds every product and every
    partial sum plus a product (as `fxhls.fixed.accumulate`'s step-by-step float64 path)."""
    if any(t is None or not fits_exactly(t, dtype) for t in types):
        return False
    product = result_type("mul", types[0], types[1])
    partial = result_type("add", acc, product)
    return all(fits_exactly(t, np.float64) for t in (acc, product, partial))


def _gemm(attrs: dict, inputs: list):
    """(spelling, output sample shape, nodes before the Loop, nodes of term k's "x_k") of a Gemm
    y = x w^T + b; None for another Gemm."""
    if (attrs.get("transA", 0), attrs.get("transB", 0)) != (0, 1) or attrs.get("alpha", 1.0) != 1.0 \
            or attrs.get("beta", 1.0) != 1.0:
        return None
    outs, terms = inputs[1].shape
    prepare = [helper.make_node("Transpose", ["x64"], ["x_terms"]),  # (K, N)
               _ints("column", [2]), helper.make_node("Unsqueeze", ["x_terms", "column"], ["x_columns"]),  # (K, N, 1)
               helper.make_node("Transpose", ["w64"], ["w_terms"])]  # (K, O)
    return f"gemm {terms} to {outs}", [outs], prepare, [helper.make_node("Gather", ["x_columns", "k"], ["x_k"], axis=0)]


def _conv(attrs: dict, inputs: list):
    """(spelling, output sample shape, nodes before the Loop, nodes of term k's "x_k") of a 2-D
    Conv with zero padding, strides and groups; None for another Conv."""
    (channels, height, width), (outs, group_channels, kh, kw) = inputs[0].shape, inputs[1].shape
    groups = attrs.get("group", 1)
    top, left, bottom, right = attrs.get("pads", [0, 0, 0, 0])
    sh, sw = attrs.get("strides", [1, 1])
    if any(d != 1 for d in attrs.get("dilations", [1, 1])) or attrs.get("auto_pad", b"NOTSET") != b"NOTSET":
        return None
    if top != bottom or left != right:
        return None  # the IR's Conv pads symmetrically
    oh, ow = conv_out_size(height, kh, sh, top), conv_out_size(width, kw, sw, left)
    # term k is (c, i, j) = unravel(k, (C/groups, KH, KW)), as the IR's w.reshape(O, -1)
    c, i, j = (a.ravel() for a in np.meshgrid(np.arange(group_channels), np.arange(kh), np.arange(kw), indexing="ij"))
    per_group = outs // groups
    source = (np.arange(outs) // per_group)[None, :] * group_channels + c[:, None]  # (K, O): the channel term k reads
    terms = group_channels * kh * kw
    prepare = [_ints("pads", [0, 0, top, left, 0, 0, bottom, right]),
               helper.make_node("Pad", ["x64", "pads"], ["padded"], mode="constant"),
               _ints("w_matrix_shape", [outs, terms]),
               helper.make_node("Reshape", ["w64", "w_matrix_shape"], ["w_matrix"]),
               helper.make_node("Transpose", ["w_matrix"], ["w_rows"]), _ints("w_terms_shape", [terms, outs, 1, 1]),
               helper.make_node("Reshape", ["w_rows", "w_terms_shape"], ["w_terms"]),  # (K, O, 1, 1)
               _ints("tap_starts", np.stack([i, j], axis=1)),
               _ints("tap_reach", [sh * (oh - 1) + 1, sw * (ow - 1) + 1]),
               _ints("spatial_axes", [2, 3]), _ints("tap_steps", [sh, sw]), _ints("tap_channels", source)]
    term = [helper.make_node("Gather", ["tap_starts", "k"], ["start"], axis=0),
            helper.make_node("Add", ["start", "tap_reach"], ["end"]),
            helper.make_node("Slice", ["padded", "start", "end", "spatial_axes", "tap_steps"],
                             ["window"]),  # (N, C, OH, OW)
            helper.make_node("Gather", ["tap_channels", "k"], ["channel"], axis=0),
            helper.make_node("Gather", ["window", "channel"], ["x_k"], axis=1)]  # (N, O, OH, OW)
    spelled = (f"conv {channels}x{height}x{width} to {outs}x{oh}x{ow} kernel {kh}x{kw} stride {sh}x{sw} "
               f"pads {top}x{left} groups {groups}")
    return spelled, [outs, oh, ow], prepare, term


def _ints(name: str, values, shape=None) -> onnx.NodeProto:
    """An int64 constant (indices, shapes)."""
    array = np.asarray(values, dtype=np.int64)
    return helper.make_node("Constant", [], [name], value=onnx.numpy_helper.from_array(
        array if shape is None else array.reshape(shape), name))
