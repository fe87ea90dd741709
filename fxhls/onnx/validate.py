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

_OLDEST_OPSET = 7  # before it, Gemm, Reshape and BatchNormalization meant other things

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
    standard = max((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), default=None)
    if standard is not None and not _OLDEST_OPSET <= standard <= onnx.defs.onnx_opset_version():
        raise ValueError(f"{source}: opset {standard} of the standard ONNX domain; fxhls reads opsets {_OLDEST_OPSET} "
                         f"to {onnx.defs.onnx_opset_version()} (as onnxruntime does from 7)")
    versions = {o.version for o in proto.opset_import if o.domain == fxhls_ops.DOMAIN}
    if versions - {fxhls_ops.VERSION}:
        raise ValueError(f"{source}: opset {fxhls_ops.DOMAIN} version {max(versions)}; this fxhls reads version "
                         f"{fxhls_ops.VERSION} (export the model with this fxhls, or update fxhls)")


# qonnx's attribute types (`CustomOp.get_nodeattr_types`) as ONNX spells them
_QONNX_ATTRIBUTE_TYPES = {"i": onnx.AttributeProto.INT, "f": onnx.AttributeProto.FLOAT,
                          "s": onnx.AttributeProto.STRING, "t": onnx.AttributeProto.TENSOR,
                          "ints": onnx.AttributeProto.INTS, "floats": onnx.AttributeProto.FLOATS,
                          "strings": onnx.AttributeProto.STRINGS}


def validate_qonnx_nodes(proto: onnx.ModelProto, source: str) -> None:
    """A one-line ValueError for a node of a QONNX domain that qonnx's own definition of
    its op rejects: an opset version qonnx lacks, a required attribute missing, an
    attribute of the wrong type or outside its allowed values. Without qonnx installed,
    nothing (loading the model then says what to install)."""
    try:
        from qonnx.custom_op.registry import getCustomOp
    except ImportError:
        return
    from .qonnx_cleanup import QONNX_DOMAINS

    opsets = {o.domain: o.version for o in proto.opset_import}
    for node in proto.graph.node:
        if node.domain not in QONNX_DOMAINS:
            continue
        checked = onnx.NodeProto()
        checked.CopyFrom(node)
        checked.domain = QONNX_DOMAINS[0]  # as qonnx_cleanup moves them
        where = f"{source}: node {node.name!r} ({node.domain}.{node.op_type})"
        try:
            op = getCustomOp(checked, opsets.get(node.domain))
        except Exception as err:  # qonnx raises KeyError and others for an op or version it lacks
            raise ValueError(f"{where}: qonnx does not define it at opset version {opsets.get(node.domain)} "
                             f"({_one_line(str(err))})") from None
        given = {attribute.name: attribute for attribute in node.attribute}
        for name, (kind, required, *_) in op.get_nodeattr_types().items():
            if name not in given:
                if required:
                    raise ValueError(f"{where}: attribute {name!r} is missing (qonnx requires it)")
                continue
            if given[name].type != _QONNX_ATTRIBUTE_TYPES.get(kind, given[name].type):
                raise ValueError(f"{where}: attribute {name!r} is "
                                 f"{onnx.AttributeProto.AttributeType.Name(given[name].type)}, qonnx reads "
                                 f"{onnx.AttributeProto.AttributeType.Name(_QONNX_ATTRIBUTE_TYPES[kind])}")
            try:
                op.get_nodeattr(name)
            except Exception as err:  # an AssertionError for a value outside the allowed ones
                raise ValueError(f"{where}: attribute {name!r}: {_one_line(str(err))}") from None


def _declared(value) -> str:
    if not value.type.HasField("tensor_type"):
        return f"a {value.type.WhichOneof('value') or 'typeless value'}, not a tensor"
    elem_type = value.type.tensor_type.elem_type
    name = TensorProto.DataType.Name(elem_type) if elem_type in TensorProto.DataType.values() else str(elem_type)
    return f"a tensor of {name}"


def _one_line(message: str) -> str:
    return " ".join(message.split())


_QUANTIZERS = ("Quantize", "Sign", "HostQuantize", "MultiThreshold", "MulShift")  # the IR ops whose output is codes


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
        from .float_types import float_model_refusal

        raise ValueError(float_model_refusal(source, graph.inputs[0]))
