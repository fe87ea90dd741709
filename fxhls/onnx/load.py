"""Load ONNX into a typed IR `Graph`: fxhls's own ONNX (see `export`) and QONNX (Brevitas).

A QONNX model (one with nodes in a QONNX domain) first goes through qonnx's cleanup
(`qonnx_cleanup`); a float model given types gets its casts (`float_types`). Then every
node is converted by the converter of its op (`standard_ops`, `shape_ops`, `qonnx_ops`,
`batchnorm`, `table_ops`; for float-scaled values and quantizers `float_ops` and
`float_scaled`, which take precedence where they apply), which infers types as it goes:
a value between two quantized ones gets its exact type. Float work that is a graph output becomes host work
(`float_ops.host_tails`).

Refuses, with a one-line `ValueError`: a file that is not ONNX, a model that is not
valid ONNX, a float model without types (`float_types`) or with no quantizer between
input and output (`validate`), an op the IR does not support (naming the
node and listing the supported ops), a shape that is dynamic beyond the batch
dimension, and what each converter cannot express exactly.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import numpy_helper

from fxhls.ir import Graph

from fxhls.model_config import model_config

from . import batchnorm, float_ops, float_scaled, fxhls_ops, qonnx_ops, shape_ops, softmax_ops, standard_ops, table_ops
from . import resize_ops, slope_ops
from .constant_nodes import constants_as_initializers
from .context import ImportContext, OnnxNode
from .float_types import type_float_model
from .qonnx_cleanup import cleaned, is_qonnx
from .validate import require_quantizer, validate_model, validate_qonnx_nodes

# (domain, op type) -> converter; "" is standard ONNX.
_CONVERTERS = {
    (domain, op): convert
    for domain, converters in (("", standard_ops.CONVERTERS), ("", shape_ops.CONVERTERS), ("", batchnorm.CONVERTERS),
                               ("", table_ops.CONVERTERS), ("", resize_ops.CONVERTERS), ("", slope_ops.CONVERTERS),
                               ("", softmax_ops.CONVERTERS),
                               (fxhls_ops.DOMAIN, fxhls_ops.CONVERTERS), (qonnx_ops.DOMAIN, qonnx_ops.CONVERTERS),
                               ("", float_ops.CONVERTERS), (qonnx_ops.DOMAIN, float_scaled.CONVERTERS))
    for op, convert in converters.items()
}


def load_onnx(path_or_proto, input_type=None, default_type=None, config=None) -> Graph:
    """The typed graph of an ONNX file (or `onnx.ModelProto`): fxhls's own or QONNX. A
    float model needs types: `input_type` for its data input, `default_type` for every
    weight, bias and layer output it leaves untyped, `config` (a YAML path or
    `fxhls.model_config.ModelConfig`) per layer; see `float_types`."""
    if isinstance(path_or_proto, onnx.ModelProto):
        proto, source = path_or_proto, "model"
    else:
        proto, source = _read(path_or_proto), str(path_or_proto)
    validate_model(proto, source)
    if is_qonnx(proto):
        validate_qonnx_nodes(proto, source)
        proto = cleaned(proto, source)
    else:  # qonnx's cleanup folds a QONNX model's constants
        proto = constants_as_initializers(proto, source)
    _check_ops_and_shapes(proto)
    types = model_config(config, input_type, default_type)
    proto = type_float_model(proto, types, source)
    graph = _build(proto, typed_input=types is not None and types.input_type is not None)
    require_quantizer(graph, source)
    return graph


def _read(path) -> onnx.ModelProto:
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such file")
    try:
        return onnx.load(str(path))
    except Exception as err:  # onnx raises DecodeError, and others for missing external data
        reason = " ".join(str(err).split())
        raise ValueError(f"{path}: not an ONNX model ({type(err).__name__}{': ' if reason else ''}{reason})") from None


def _build(proto: onnx.ModelProto, typed_input: bool = False) -> Graph:
    constants = {init.name: init for init in proto.graph.initializer}
    inputs = [value for value in proto.graph.input if value.name not in constants]
    opsets = {("" if o.domain == "ai.onnx" else o.domain): o.version for o in proto.opset_import}
    used = frozenset(name for node in proto.graph.node for name in node.input) | \
        frozenset(value.name for value in proto.graph.output)
    ctx = ImportContext(_batch_size(inputs), opsets, used, qonnx=is_qonnx(proto), typed_input=typed_input)
    for name, init in constants.items():
        ctx.add_constant(name, numpy_helper.to_array(init))
    for value in inputs:
        ctx.add_input(value.name, _sample_shape(value))
    for proto_node in proto.graph.node:
        node = OnnxNode.read(proto_node)
        table_ops.check_reader(ctx, node, is_quantize=(node.domain, node.op_type) == (fxhls_ops.DOMAIN, "Quantize"))
        try:
            _converter(node)(ctx, node)
        except ValueError as err:  # a reason found below the converter: say which node it is about
            if str(err).startswith("node "):
                raise
            raise node.refuse(str(err)) from None
    table_ops.check_outputs(ctx, [value.name for value in proto.graph.output])
    float_ops.host_tails(ctx, [value.name for value in proto.graph.output])
    return ctx.graph([value.name for value in inputs], [value.name for value in proto.graph.output])


def _check_ops_and_shapes(proto: onnx.ModelProto) -> None:
    """What a model is told first, typed or not: an op fxhls lacks, a dynamic input shape."""
    for node in proto.graph.node:
        _converter(OnnxNode.read(node))
    constants = {init.name for init in proto.graph.initializer}
    for value in proto.graph.input:
        if value.name not in constants:
            _sample_shape(value)


def _converter(node: OnnxNode):
    convert = _CONVERTERS.get((node.domain, node.op_type))
    if convert is None:
        supported = ", ".join(sorted(f"{d}.{op}" if d else op for d, op in _CONVERTERS))
        raise ValueError(f"node {node.name!r}: op {node.qualified_op} is not supported (supported: {supported})")
    return convert


def _batch_size(inputs) -> int | None:
    dims = inputs[0].type.tensor_type.shape.dim if inputs else []
    return dims[0].dim_value if dims and dims[0].HasField("dim_value") else None


def _sample_shape(value) -> tuple[int, ...]:
    dims = value.type.tensor_type.shape.dim
    shape = []
    for i, dim in enumerate(dims[1:], start=1):
        if not dim.HasField("dim_value"):
            raise ValueError(f"input {value.name!r}: dimension {i} is dynamic; only the batch dimension (0) may be")
        shape.append(dim.dim_value)
    return tuple(shape)
