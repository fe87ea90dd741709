"""ONNX Softmax, ArgMax and TopK (k = 1) over the class axis -> IR Softmax and ArgMax.

The class axis is the channel axis (1) of [N, C] or [N, C, H, W] (opset 13's Softmax
axis=-1 or 1 on [N, C], axis=1 on an image: per pixel); any other axis is refused in one
line, as is a Softmax before opset 13 on an image (it spans C x H x W values).

Softmax's types: the output type is the node's `table_type` attribute, which
`fxhls.onnx.float_types` gives it in a float model (`--default-type`, or a config
`output`), with the config's `exp`, `sum` and `reciprocal` as `exp_type`, `sum_type`,
`reciprocal_type`; fxhls's own Softmax (domain "fxhls", as QSoftmax exports it) carries
its output type as a Quantize does (width, int_bits, signed, rounding, overflow) and the
internal types it was given; after a quantizer (QONNX, fxhls ONNX) a standard Softmax's
output type is `default_output_type` of its input. Every type left out is `default_types`'s
(`fxhls.ir.ops.softmax`), filled in here so the IR node names all of them.

ArgMax (select_last_index=0, keepdims 0 or 1) and TopK with k=1, largest=1 (its indices;
its values output must be unused) give the index of the largest value, ties to the
lowest; the IR keeps the class axis of size 1 either way (see `fxhls.ir.ops.argmax`).
On float-scaled codes (QONNX) an ArgMax reads the codes when they have one positive scale:
the order of s * (q - z) is that of q.
"""

from __future__ import annotations

from fxhls.fixed import FixedType
from fxhls.ir import Node
from fxhls.ir.ops.quantize import node_type, type_attrs
from fxhls.ir.ops.softmax import INTERNAL_TYPES, default_output_type, default_types

from . import float_values as values
from . import fxhls_ops
from .context import ImportContext, OnnxNode
from .table_ops import TYPE_ATTRIBUTE

SOFTMAX_CONFIG_KEYS = {"exp": "exp_type", "sum": "sum_type", "reciprocal": "reciprocal_type"}


def _class_axis(ctx: ImportContext, n: OnnxNode, axis: int, op: str) -> None:
    """Refuse `axis` unless it is the channel axis of a vector or an image."""
    rank = len(ctx.tensor(n.inputs[0]).shape) + 1
    if rank not in (2, 4):
        raise n.refuse(f"{op} of a tensor of rank {rank}; supported: [N, C] (over C) and [N, C, H, W] (over C per "
                       f"pixel)")
    if not -rank <= axis < rank or axis % rank != 1:
        raise n.refuse(f"{op} over axis {axis} of a rank-{rank} tensor; supported: the class axis, 1 or {1 - rank}"
                       f"{' (per pixel)' if rank == 4 else ''}")


def _fixed_point_input(ctx: ImportContext, n: OnnxNode, codes_ok: bool) -> str:
    x = n.inputs[0]
    if x in ctx.chains or (values.has_scale(ctx, x) and not codes_ok):
        raise n.refuse(f"its input is {values.described(ctx, x)}; {n.op_type} is supported on fixed-point values "
                       f"(a typed float model, or a power-of-two quantizer before it)")
    if values.has_scale(ctx, x):
        scale, _ = values.activation_facts(ctx, x)
        if len(scale) != 1 or scale[0] <= 0:
            raise n.refuse(f"its input is {values.described(ctx, x)}; an {n.op_type} of codes needs one positive "
                           f"scale (the order of the values is then that of the codes)")
    if ctx.tensor(x).type is None:
        raise n.refuse(f"{n.op_type} needs a fixed-point input; give the model types (--default-type T) or a "
                       f"quantizer before it")
    return ctx.operand(x, n)


def softmax(ctx: ImportContext, n: OnnxNode) -> None:
    opset = ctx.opsets.get("", 13)
    if n.inputs[0] in ctx.chains:  # float work (a float-scaled model's last layer): no fixed-point shape to read
        _fixed_point_input(ctx, n, codes_ok=False)
    _class_axis(ctx, n, n.attrs.get("axis", -1 if opset >= 13 else 1), "Softmax")
    if opset < 13 and len(ctx.tensor(n.inputs[0]).shape) != 1:
        raise n.refuse(f"a Softmax of opset {opset} on an image spans C x H x W values; supported: opset 13 and "
                       f"later (per pixel), or a vector")
    x = _fixed_point_input(ctx, n, codes_ok=False)
    x_type, classes = ctx.tensors[x].type, ctx.tensors[x].shape[0]
    if n.domain == fxhls_ops.DOMAIN:
        out_type = node_type(n.attrs)
    elif TYPE_ATTRIBUTE in n.attrs:
        out_type = FixedType.parse(n.attrs[TYPE_ATTRIBUTE])
    else:
        out_type = default_output_type(x_type)
    internal = {**default_types(out_type, classes),
                **{name: FixedType.parse(n.attrs[name]) for name in INTERNAL_TYPES if name in n.attrs}}
    attrs = {**type_attrs(out_type), **{name: str(t) for name, t in internal.items()}}
    ctx.add(Node("Softmax", n.name, [x], n.outputs[:1], attrs), n)


def arg_max(ctx: ImportContext, n: OnnxNode) -> None:
    if n.attrs.get("select_last_index", 0):
        raise n.refuse("select_last_index=1 (ties to the last index) is not supported; ties go to the lowest index")
    _class_axis(ctx, n, n.attrs.get("axis", 0), "ArgMax")
    _arg_max(ctx, n, n.outputs[0])


def top_k(ctx: ImportContext, n: OnnxNode) -> None:
    k = ctx.constant(n.inputs[1]) if len(n.inputs) > 1 else None
    if k is None or k.size != 1 or int(k.reshape(-1)[0]) != 1:
        raise n.refuse("only k = 1 given as a constant is supported (the index of the largest value)")
    if not n.attrs.get("largest", 1):
        raise n.refuse("largest=0 (the smallest value) is not supported")
    _class_axis(ctx, n, n.attrs.get("axis", -1), "TopK")
    if n.outputs[0] in ctx.used:
        raise n.refuse(f"its values output {n.outputs[0]!r} is used; only the indices output of a TopK is "
                       f"supported (take the values with a ReduceMax, or use the indices alone)")
    _arg_max(ctx, n, n.outputs[1])


def _arg_max(ctx: ImportContext, n: OnnxNode, output: str) -> None:
    x = _fixed_point_input(ctx, n, codes_ok=True)
    ctx.add(Node("ArgMax", n.name, [x], [output]), n)


CONVERTERS = {"Softmax": softmax, "ArgMax": arg_max, "TopK": top_k}
