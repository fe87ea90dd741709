"""Standard ONNX ops -> IR nodes, for fxhls's own ONNX and for QONNX alike.

Each converter refuses the attributes the IR cannot express (dilated
convolutions, asymmetric or pooling padding, Gemm's alpha/beta/transA). A constant
operand broadcast with a leading batch axis of 1 (a (1, C, 1, 1) scale) loses that
axis, as IR shapes are per sample. An average is exact when its window holds a power
of two of values; qonnx divides by any other count in float32, which rounds, so that
is refused (fxhls's own AveragePool carries the `reciprocal_type` the hardware uses).
A ReduceMean over an image's height and width is a GlobalAveragePool. Identity, Dropout
(inference) and a Cast between float types move nothing: the output names the input's tensor.

A 1-D Conv, MaxPool, AveragePool, GlobalAveragePool or ReduceMean reads a (C, L)
sequence as an image of one row: a Reshape to (C, 1, L), the 2-D op (kernel (1, k)),
a Reshape back, so the IR and both backends serve it with their 2-D ops; a sequence
streams as that image does (`fxhls.deploy.packing`), so the Reshapes move nothing.
"""

from __future__ import annotations

import math

import numpy as np
from onnx import TensorProto

from fxhls.ir import Node

from .context import ImportContext, OnnxNode


def relu(ctx: ImportContext, n: OnnxNode) -> None:
    ctx.add(Node("Relu", n.name, [ctx.operand(n.inputs[0], n)], n.outputs[:1]), n)


def identity(ctx: ImportContext, n: OnnxNode) -> None:
    ctx.alias(n.outputs[0], n.inputs[0])


def dropout(ctx: ImportContext, n: OnnxNode) -> None:
    """Dropout at inference moves nothing (its mask output is not supported)."""
    training = n.inputs[2] if len(n.inputs) > 2 else ""
    if training and (ctx.constant(training) is None or ctx.constant(training).any()):
        raise n.refuse("only inference (training_mode a constant false) is supported")
    if len(n.outputs) > 1 and n.outputs[1]:
        raise n.refuse("its mask output is not supported")
    ctx.alias(n.outputs[0], n.inputs[0])


def cast(ctx: ImportContext, n: OnnxNode) -> None:
    """A Cast between float types moves nothing: the IR computes exactly in float64 (an
    exported model casts only values that both float types hold exactly)."""
    if n.attrs.get("to") not in (TensorProto.FLOAT, TensorProto.DOUBLE):
        raise n.refuse("only casts to float32 or float64 are supported")
    ctx.alias(n.outputs[0], n.inputs[0])


def _elementwise(op: str):
    def convert(ctx: ImportContext, n: OnnxNode) -> None:
        a, b = n.inputs
        ctx.add(Node(op, n.name, [_per_sample(ctx, a, b, n), _per_sample(ctx, b, a, n)], n.outputs[:1]), n)

    return convert


def _per_sample(ctx: ImportContext, name: str, other: str, n: OnnxNode) -> str:
    """`name` as an operand beside the activation `other`: a static tensor with one axis
    more than a sample loses its leading axis of 1 (ONNX's batch axis)."""
    if ctx.is_static(name) and not ctx.is_static(other):
        shape, rank = ctx.tensor(name).shape, len(ctx.tensor(other).shape)
        if len(shape) > rank + 1 or (len(shape) == rank + 1 and shape[0] != 1):
            raise n.refuse(f"constant {name!r} of shape {list(shape)} broadcasts over the batch axis")
        if len(shape) == rank + 1:
            name = ctx.static_view(name, lambda data: data.squeeze(0), n)
    return ctx.operand(name, n)


def _static_weight(ctx: ImportContext, name: str, n: OnnxNode) -> str:
    if not ctx.is_static(name):
        raise n.refuse(f"its weight {name!r} is computed at run time; only constant or quantized constant "
                       f"weights are supported")
    return ctx.operand(name, n)


def _bias(ctx: ImportContext, n: OnnxNode, outputs: int) -> list[str]:
    """[bias] (shape (outputs,)) when the node has one, else []."""
    if len(n.inputs) < 3 or not n.inputs[2]:
        return []
    name = n.inputs[2]
    if not ctx.is_static(name) or math.prod(ctx.tensor(name).shape) != outputs:
        raise n.refuse(f"its bias {name!r} must be a constant with one value per output ({outputs})")
    if tuple(ctx.tensor(name).shape) != (outputs,):
        name = ctx.static_view(name, lambda data: data.reshape(outputs), n)
    return [ctx.operand(name, n)]


def _narrowed(n: OnnxNode) -> dict:
    """fxhls's narrowed accumulator, where the node has one."""
    return {"acc_type": n.attrs["acc_type"]} if "acc_type" in n.attrs else {}


def gemm(ctx: ImportContext, n: OnnxNode) -> None:
    a = n.attrs
    if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
        raise n.refuse("only alpha=1, beta=1 and transA=0 are supported")
    _dense(ctx, n, transposed=bool(a.get("transB", 0)), with_bias=True)


def matmul(ctx: ImportContext, n: OnnxNode) -> None:
    _dense(ctx, n, transposed=False, with_bias=False)


def _dense(ctx: ImportContext, n: OnnxNode, transposed: bool, with_bias: bool) -> None:
    """IR Gemm (W is (out, in)) for a vector, the weight transposed if need be; IR MatMul
    (W is (in, out)) for a sample with leading dimensions."""
    x, w = ctx.operand(n.inputs[0], n), _static_weight(ctx, n.inputs[1], n)
    if len(ctx.tensors[w].shape) != 2:
        raise n.refuse(f"its weight has shape {list(ctx.tensors[w].shape)}; only a matrix (2-D) is supported")
    if not transposed and len(ctx.tensors[x].shape) == 1:
        w, transposed = ctx.static_view(w, lambda data: np.ascontiguousarray(data.T), n), True
    outputs = ctx.tensors[w].shape[0 if transposed else 1]
    inputs = [x, w, *(_bias(ctx, n, outputs) if with_bias else [])]
    ctx.add(Node("Gemm" if transposed else "MatMul", n.name, inputs, n.outputs[:1], _narrowed(n)), n)


def _is_sequence(ctx: ImportContext, n: OnnxNode) -> bool:
    """Whether the node's input is a (C, L) sequence (a 1-D op's input)."""
    return not ctx.is_static(n.inputs[0]) and len(ctx.tensor(n.inputs[0]).shape) == 2


def _row_image(ctx: ImportContext, n: OnnxNode) -> str:
    """The node's (C, L) input as a (C, 1, L) image: a Reshape added; its name."""
    channels, length = ctx.tensor(n.inputs[0]).shape
    image = ctx.fresh(f"{ctx.name(n.inputs[0])}_row")
    ctx.add(Node("Reshape", ctx.node_name(f"{n.name}_to_row"), [ctx.operand(n.inputs[0], n)], [image],
                 {"shape": [channels, 1, length]}), n)
    return image


def _on_row_image(ctx: ImportContext, n: OnnxNode, op: str, inputs: list[str], attrs: dict) -> None:
    """1-D `n` as the 2-D `op` over its input as a one-row image (`inputs[0]`), its output
    reshaped back to a sequence."""
    row = ctx.fresh(f"{n.outputs[0]}_row")
    ctx.add(Node(op, n.name, inputs, [row], attrs), n)
    channels, _, length = ctx.tensors[row].shape
    ctx.add(Node("Reshape", ctx.node_name(f"{n.name}_from_row"), [row], n.outputs[:1],
                 {"shape": [channels, length]}), n)


def conv(ctx: ImportContext, n: OnnxNode) -> None:
    a = n.attrs
    x, w = ctx.operand(n.inputs[0], n), _static_weight(ctx, n.inputs[1], n)
    rank = len(ctx.tensors[w].shape)
    if rank not in (3, 4):
        raise n.refuse("only 1-D and 2-D convolutions are supported")
    if any(d != 1 for d in a.get("dilations", [1] * (rank - 2))):
        raise n.refuse("only dilation 1 is supported")
    pads = list(a.get("pads", [0] * 2 * (rank - 2)))
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID") or pads[:rank - 2] != pads[rank - 2:]:
        raise n.refuse(f"only explicit symmetric padding is supported, got pads={pads}")
    attrs = {"strides": list(a.get("strides", [1] * (rank - 2))), "pads": pads[:rank - 2], **_narrowed(n)}
    if a.get("group", 1) != 1:
        attrs["groups"] = a["group"]
    bias = _bias(ctx, n, ctx.tensors[w].shape[0])
    if rank == 4:
        ctx.add(Node("Conv", n.name, [x, w, *bias], n.outputs[:1], attrs), n)
        return
    w = ctx.static_view(w, lambda data: data[:, :, None, :], n)
    attrs |= {"strides": [1, *attrs["strides"]], "pads": [0, *attrs["pads"]]}
    _on_row_image(ctx, n, "Conv", [_row_image(ctx, n), w, *bias], attrs)


def flatten(ctx: ImportContext, n: OnnxNode) -> None:
    source, axis = n.inputs[0], n.attrs.get("axis", 1)
    shape = ctx.tensor(source).shape
    if ctx.is_static(source):
        rows = math.prod(shape[:axis + len(shape) if axis < 0 else axis])
        ctx.alias(n.outputs[0], ctx.static_view(source, lambda data: data.reshape(rows, -1), n))
    elif axis not in (1, -len(shape)):
        raise n.refuse(f"only axis=1 (everything after the batch) is supported, got axis={axis}")
    else:
        ctx.add(Node("Flatten", n.name, [ctx.operand(source, n)], n.outputs[:1]), n)


def pool_window(ctx: ImportContext, n: OnnxNode) -> dict:
    """kernel_shape and strides of a 2-D pooling without padding or dilation (of a 1-D
    one: those of the 2-D pooling of its one-row image)."""
    a = n.attrs
    kernel = list(a["kernel_shape"])
    strides, dims = list(a.get("strides", [1] * len(kernel))), len(kernel)
    if dims not in (1, 2) or dims != len(ctx.tensor(n.inputs[0]).shape) - 1:
        raise n.refuse(f"only 1-D and 2-D pooling is supported (a {dims}-D window over "
                       f"{list(ctx.tensor(n.inputs[0]).shape)} values per sample)")
    if any(a.get("pads", [0] * 2 * dims)) or any(d != 1 for d in a.get("dilations", [1] * dims)) or \
            a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise n.refuse("pooling with padding or dilation is not supported")
    if len(n.outputs) > 1 and n.outputs[1]:
        raise n.refuse("the indices output of MaxPool is not supported")
    if a.get("ceil_mode", 0):
        sizes = ctx.tensor(n.inputs[0]).shape[1:]
        if any((size - k) % s for size, k, s in zip(sizes, kernel, strides)):
            raise n.refuse("ceil_mode=1 adds a partial window here; not supported")
    if dims == 1:
        kernel, strides = [1, *kernel], [1, *strides]
    return {"kernel_shape": kernel, "strides": strides}


def _pool(ctx: ImportContext, n: OnnxNode, op: str, attrs: dict) -> None:
    """IR pooling `op` on the node's image, or on its sequence as a one-row image."""
    if _is_sequence(ctx, n):
        _on_row_image(ctx, n, op, [_row_image(ctx, n)], attrs)
    else:
        ctx.add(Node(op, n.name, [ctx.operand(n.inputs[0], n)], n.outputs[:1], attrs), n)


def max_pool(ctx: ImportContext, n: OnnxNode) -> None:
    _pool(ctx, n, "MaxPool", pool_window(ctx, n))


def _power_of_two_count(n: OnnxNode, count: int) -> None:
    if count & (count - 1):
        raise n.refuse(f"averages {count} values, not a power of two: qonnx divides by {count} in float32, "
                       f"which rounds (not fixed point)")


def average_pool(ctx: ImportContext, n: OnnxNode) -> None:
    attrs = pool_window(ctx, n)
    if "reciprocal_type" in n.attrs:  # fxhls's own: 1/N as the hardware rounds it
        attrs["reciprocal_type"] = n.attrs["reciprocal_type"]
    else:
        _power_of_two_count(n, math.prod(attrs["kernel_shape"]))
    _pool(ctx, n, "AveragePool", attrs)


def global_average_pool(ctx: ImportContext, n: OnnxNode) -> None:
    attrs = {}
    if "reciprocal_type" in n.attrs:
        attrs["reciprocal_type"] = n.attrs["reciprocal_type"]
    else:
        _power_of_two_count(n, math.prod(ctx.tensor(n.inputs[0]).shape[1:]))
    _pool(ctx, n, "GlobalAveragePool", attrs)


def reduce_mean(ctx: ImportContext, n: OnnxNode) -> None:
    """The mean over an image's height and width, or over a sequence's length (how
    torch's dynamo exporter writes a global average pool): IR GlobalAveragePool, then
    Flatten when keepdims=0."""
    axes = n.attrs.get("axes")
    if axes is None and len(n.inputs) > 1 and n.inputs[1]:
        axes = ctx.constant(n.inputs[1])
        if axes is None:
            raise n.refuse("its axes are computed at run time; only constant axes are supported")
        axes = [int(a) for a in axes.tolist()]
    shape = ctx.tensor(n.inputs[0]).shape
    spatial = list(range(2, len(shape) + 1))
    if ctx.is_static(n.inputs[0]) or len(shape) not in (2, 3) or \
            sorted(int(a) % (len(shape) + 1) for a in axes or []) != spatial:
        raise n.refuse("only the mean of an image over its height and width (axes 2 and 3), or of a sequence over "
                       "its length (axis 2), is supported")
    _power_of_two_count(n, math.prod(shape[1:]))
    if n.attrs.get("keepdims", 1):
        _pool(ctx, n, "GlobalAveragePool", {})
        return
    pooled = ctx.fresh(f"{n.outputs[0]}_pooled")
    x = _row_image(ctx, n) if _is_sequence(ctx, n) else ctx.operand(n.inputs[0], n)
    ctx.add(Node("GlobalAveragePool", n.name, [x], [pooled]), n)
    ctx.add(Node("Flatten", ctx.node_name(f"{n.name}_flatten"), [pooled], n.outputs[:1]), n)


CONVERTERS = {
    "Relu": relu, "Identity": identity, "Cast": cast, "Add": _elementwise("Add"), "Mul": _elementwise("Mul"),
    "Dropout": dropout, "Gemm": gemm, "MatMul": matmul, "Conv": conv, "Flatten": flatten, "MaxPool": max_pool,
    "AveragePool": average_pool, "GlobalAveragePool": global_average_pool, "ReduceMean": reduce_mean,
}
