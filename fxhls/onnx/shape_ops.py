"""ONNX Reshape, Squeeze, Unsqueeze, Transpose and Concat -> IR Reshape / Transpose / Concat of a sample.

The ONNX target shape or permutation covers the batch axis too: it must leave that
axis in place (Reshape: 0, -1 with the rest fixed, or the exported batch size;
Transpose: perm[0] == 0), and the IR node gets the per-sample rest. A Reshape whose
target shape is computed at run time is a dynamic shape: refused. On a static tensor
(a quantized weight) the reshape or transpose is applied to the constant itself.
One that changes nothing is no node at all; one that flattens a sample is IR Flatten.
Squeeze and Unsqueeze (constant axes, not the batch axis) are Reshapes: torch's dynamo
exporter writes a 1-D pooling as Unsqueeze, 2-D pooling, Squeeze.
Concat joins activations along a sample axis.
"""

from __future__ import annotations

import math

import numpy as np

from fxhls.fixed import FixedType
from fxhls.ir import Node
from fxhls.ir.ops.quantize import type_attrs

from .context import ImportContext, OnnxNode


def reshape(ctx: ImportContext, n: OnnxNode) -> None:
    source, target = n.inputs[0], ctx.constant(n.inputs[1])
    if target is None:
        raise n.refuse("its target shape is computed at run time (a dynamic shape); only a constant shape is supported")
    target = [int(v) for v in target.tolist()]
    if n.attrs.get("allowzero", 0) and 0 in target:
        raise n.refuse("allowzero=1 with a 0 in the shape is not supported")
    shape = tuple(ctx.tensor(source).shape)
    if ctx.is_static(source):
        full = _resolved(n, [shape[i] if d == 0 else d for i, d in enumerate(target)], math.prod(shape))
        ctx.alias(n.outputs[0], ctx.static_view(source, lambda data: data.reshape(full), n))
        return
    batch, rest = target[0], [shape[i] if d == 0 else d for i, d in enumerate(target[1:])]
    if batch == -1 and -1 not in rest and math.prod(rest) == math.prod(shape):
        batch = 0
    if batch != 0 and batch != ctx.batch:
        raise n.refuse(f"target shape {target} does not keep the batch axis first")
    sample = _resolved(n, rest, math.prod(shape))
    if len(sample) == 1 and len(shape) > 1:
        ctx.add(Node("Flatten", n.name, [ctx.operand(source, n)], n.outputs[:1]), n)
    else:
        _add_or_alias(ctx, n, "Reshape", {"shape": list(sample)}, sample == shape)


def squeeze(ctx: ImportContext, n: OnnxNode) -> None:
    shape = list(ctx.tensor(n.inputs[0]).shape)
    axes = _axes(ctx, n, len(shape) + 1)
    if axes is None:
        axes = [axis + 1 for axis, size in enumerate(shape) if size == 1]
    if any(shape[axis - 1] != 1 for axis in axes if axis > 0):
        raise n.refuse(f"axes {axes} of a sample of shape {shape} are not all of size 1")
    _reshape_sample(ctx, n, axes, [size for axis, size in enumerate(shape) if axis + 1 not in axes])


def unsqueeze(ctx: ImportContext, n: OnnxNode) -> None:
    shape, given = list(ctx.tensor(n.inputs[0]).shape), _axes(ctx, n, None)
    if given is None:
        raise n.refuse("it has no axes")
    rank = len(shape) + 1 + len(given)
    axes = sorted(axis % rank for axis in given)
    sizes = iter(shape)
    full = [1 if axis in axes else next(sizes, None) for axis in range(1, len(shape) + 1 + len(axes))]
    _reshape_sample(ctx, n, axes, full)


def _axes(ctx: ImportContext, n: OnnxNode, rank: int | None) -> list[int] | None:
    """The node's axes (an attribute, or a constant second input), each taken modulo
    `rank` (the full rank, batch axis included) when it is given."""
    axes = n.attrs.get("axes")
    if axes is None and len(n.inputs) > 1 and n.inputs[1]:
        axes = ctx.constant(n.inputs[1])
        if axes is None:
            raise n.refuse("its axes are computed at run time; only constant axes are supported")
    if axes is None:
        return None
    axes = [int(axis) for axis in np.asarray(axes).reshape(-1).tolist()]
    return axes if rank is None else sorted(axis % rank for axis in axes)


def _reshape_sample(ctx: ImportContext, n: OnnxNode, axes: list[int], sample: list[int]) -> None:
    """A Squeeze or Unsqueeze of an activation as an IR Reshape to `sample` (static: on the constant)."""
    source = n.inputs[0]
    if ctx.is_static(source):
        raise n.refuse("a Squeeze or Unsqueeze of a constant is not supported; only activations are reshaped")
    if 0 in axes:
        raise n.refuse(f"axes {axes} include the batch axis")
    _add_or_alias(ctx, n, "Reshape", {"shape": sample}, tuple(sample) == tuple(ctx.tensor(source).shape))


def transpose(ctx: ImportContext, n: OnnxNode) -> None:
    source = n.inputs[0]
    shape = ctx.tensor(source).shape
    rank = len(shape) + (0 if ctx.is_static(source) else 1)
    perm = list(n.attrs.get("perm", reversed(range(rank))))
    if ctx.is_static(source):
        ctx.alias(n.outputs[0], ctx.static_view(source, lambda data: data.transpose(perm), n))
        return
    if perm[0] != 0:
        raise n.refuse(f"perm {perm} moves the batch axis")
    sample_perm = [axis - 1 for axis in perm[1:]]
    _add_or_alias(ctx, n, "Transpose", {"perm": sample_perm}, sample_perm == sorted(sample_perm))


def _resolved(n: OnnxNode, dims: list[int], size: int) -> tuple[int, ...]:
    """`dims` with its -1 (at most one) worked out from the number of values."""
    known = math.prod(d for d in dims if d != -1)
    if dims.count(-1) > 1 or any(d < -1 for d in dims) or known == 0 or size % known:
        raise n.refuse(f"cannot reshape {size} values to {dims}")
    resolved = tuple(size // known if d == -1 else d for d in dims)
    if math.prod(resolved) != size:
        raise n.refuse(f"cannot reshape {size} values to {dims}")
    return resolved


def _add_or_alias(ctx: ImportContext, n: OnnxNode, op: str, attrs: dict, changes_nothing: bool) -> None:
    if changes_nothing:
        ctx.alias(n.outputs[0], n.inputs[0])
    else:
        ctx.add(Node(op, n.name, [ctx.operand(n.inputs[0], n)], n.outputs[:1], attrs), n)


def concat(ctx: ImportContext, n: OnnxNode) -> None:
    if any(ctx.is_static(name) for name in n.inputs):
        raise n.refuse("a constant input is not supported; only activations are joined")
    rank = len(ctx.tensor(n.inputs[0]).shape) + 1
    axis = n.attrs["axis"] + (rank if n.attrs["axis"] < 0 else 0)
    if axis == 0:
        raise n.refuse("it joins along the batch axis; only sample axes are supported")
    facts = _joined_scale(ctx, n, axis - 1)
    operands = [ctx.operand(name, n) for name in n.inputs]
    if facts and len({ctx.tensors[name].type for name in operands}) > 1:
        operands = _widened_codes(ctx, n, operands)
    ctx.add(Node("Concat", n.name, operands, n.outputs[:1], {"axis": axis - 1}), n)
    ctx.tensor(n.outputs[0]).facts.update(facts)


def _widened_codes(ctx: ImportContext, n: OnnxNode, operands: list[str]) -> list[str]:
    """Codes of float-scaled quantizers of different types, each cast (exactly) to the
    type that holds them all."""
    types = [ctx.tensors[name].type for name in operands]
    signed = any(t.signed for t in types)
    int_bits = max(t.int_bits + int(signed and not t.signed) for t in types)
    frac_bits = max(t.frac_bits for t in types)
    common = FixedType(int_bits + frac_bits, int_bits, signed)
    widened = []
    for name, t in zip(operands, types):
        if t != common:
            cast = ctx.fresh(f"{name}_widened")
            ctx.add(Node("Quantize", ctx.node_name(f"{n.name}_{name}_widened"), [name], [cast], type_attrs(common)), n)
            name = cast
        widened.append(name)
    return widened


def _joined_scale(ctx: ImportContext, n: OnnxNode, axis: int) -> dict:
    """The scale facts of a Concat's output: codes of one per-tensor scale and zero point
    join as they are, codes of per-tensor scales joined along the channels (sample axis 0)
    become codes of a per-channel scale (a Concat moves values, rounding none); float
    work, or other scales, are refused naming them."""
    from . import float_values

    if any(name in ctx.chains for name in n.inputs):
        floats = [float_values.described(ctx, name) for name in n.inputs if name in ctx.chains]
        raise n.refuse(f"it joins float work ({', '.join(floats)}); only quantized values are joined")
    scaled = [name for name in n.inputs if float_values.has_scale(ctx, name)]
    if not scaled:
        return {}
    facts = [float_values.activation_facts(ctx, name) if name in scaled else None for name in n.inputs]
    if all(f == facts[0] and len(f[0]) == 1 for f in facts):
        return {key: ctx.tensor(scaled[0]).facts[key] for key in ("scale", "zero_point")}
    if axis != 0 or any(f is None or len(f[0]) != 1 or len(f[1]) != 1 for f in facts):
        raise n.refuse(f"it joins {' and '.join(float_values.described(ctx, name) for name in n.inputs)}: values of "
                       f"one per-tensor scale and zero point are joined exactly, and values of per-tensor scales "
                       f"along the channels; other scales are not supported")
    channels = [ctx.tensor(name).shape[0] for name in n.inputs]
    view = (-1, *[1] * (len(ctx.tensor(n.inputs[0]).shape) - 1))
    return {key: np.concatenate([np.full(c, f[index][0], dtype=np.float32) for c, f in zip(channels, facts)])
            .reshape(view) for index, key in enumerate(("scale", "zero_point"))}


CONVERTERS = {"Reshape": reshape, "Squeeze": squeeze, "Unsqueeze": unsqueeze, "Transpose": transpose,
              "Concat": concat}
