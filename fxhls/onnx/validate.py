"""Check an ONNX model before anything reads it: a malformed model is refused in one line.

`onnx.checker` finds what the ONNX specification forbids (no IR version, nodes out of
topological order or in a cycle, an input no node or initializer provides, a tensor
written twice, an attribute of the wrong type); fxhls adds what it needs beyond that:
a graph input that is not an initializer (the data the model runs on) declared as real
numbers, a graph output, the version of the fxhls opset it reads, and, once imported,
a quantizer between input and output (`require_quantizer`).
"""

from __future__ import annotations

import onnx
from onnx import TensorProto

from . import fxhls_ops

# What a data input may hold: real numbers (not complex, strings or undefined).
_REAL_TYPES = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.BOOL,
               TensorProto.INT8, TensorProto.INT16, TensorProto.INT32, TensorProto.INT64,
               TensorProto.UINT8, TensorProto.UINT16, TensorProto.UINT32, TensorProto.UINT64}


def validate_model(proto: onnx.ModelProto, source: str) -> None:
    """A one-line ValueError naming `source` (the file) when `proto` is not a valid ONNX
    model fxhls can read."""
    if not proto.graph.node and not proto.graph.output:
        raise ValueError(f"{source}: an empty ONNX model (no nodes, no outputs); is the file complete?")
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as err:
        raise ValueError(f"{source}: not a valid ONNX model: {_one_line(str(err))}") from None
    constants = {init.name for init in proto.graph.initializer} | {init.name for init in
                                                                    proto.graph.sparse_initializer}
    inputs = [value for value in proto.graph.input if value.name not in constants]
    if not inputs:
        shadowed = ", ".join(repr(value.name) for value in proto.graph.input) or "none"
        raise ValueError(f"{source}: the model has no data input (graph inputs: {shadowed}; an input that is also "
                         f"an initializer is a constant); remove the initializer of the input the data goes to")
    for value in inputs:
        if not value.type.HasField("tensor_type") or value.type.tensor_type.elem_type not in _REAL_TYPES:
            raise ValueError(f"{source}: input {value.name!r} is declared {_declared(value)}; fxhls models take "
                             f"tensors of real numbers (float, double, integers or bool)")
    if not proto.graph.output:
        raise ValueError(f"{source}: the model has no graph output")
    versions = {o.version for o in proto.opset_import if o.domain == fxhls_ops.DOMAIN}
    if versions - {fxhls_ops.VERSION}:
        raise ValueError(f"{source}: opset {fxhls_ops.DOMAIN} version {max(versions)}; this fxhls reads version "
                         f"{fxhls_ops.VERSION} (export the model with this fxhls, or update fxhls)")


def _declared(value) -> str:
    if not value.type.HasField("tensor_type"):
        return f"a {value.type.WhichOneof('value') or 'typeless value'}, not a tensor"
    elem_type = value.type.tensor_type.elem_type
    name = TensorProto.DataType.Name(elem_type) if elem_type in TensorProto.DataType.values() else str(elem_type)
    return f"a tensor of {name}"


def _one_line(message: str) -> str:
    return " ".join(message.split())


_QUANTIZERS = ("Quantize", "Sign")  # the IR ops whose output is a fixed-point code


def require_quantizer(graph, source: str) -> None:
    """A one-line ValueError when no quantizer lies between `graph`'s input and its
    output: fxhls computes fixed-point models only, and would run a float one in float64."""
    after_input = set(graph.inputs)
    for node in graph.nodes:
        if after_input.intersection(node.inputs):
            after_input.update(node.outputs)
    before_output = set(graph.outputs)
    for node in reversed(graph.nodes):
        if before_output.intersection(node.outputs):
            before_output.update(node.inputs)
    if not any(node.op in _QUANTIZERS and node.outputs[0] in after_input and node.outputs[0] in before_output
               for node in graph.nodes):
        raise ValueError(f"{source}: a float model (no quantizer between its input and its output); fxhls runs "
                         f"fixed-point models: quantize it with fxhls.qfx or Brevitas (QONNX) first")
