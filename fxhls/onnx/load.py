"""Load fxhls's own ONNX (see `export`) into a typed IR `Graph`.

Refuses, with a one-line `ValueError`: a file that is not ONNX, an op the IR does
not support (naming the node), a shape that is dynamic beyond the batch dimension.
"""

from __future__ import annotations

import onnx
import torch
from onnx import helper, numpy_helper

from fxhls.ir import Graph, Node, Tensor, infer_types

# (domain, op type) -> IR op; attributes kept by name.
_SUPPORTED = {
    ("fxhls", "Quantize"): "Quantize", ("fxhls", "Sign"): "Sign",
    ("fxhls", "Gemm"): "Gemm", ("fxhls", "Conv"): "Conv",
    ("", "Gemm"): "Gemm", ("", "Conv"): "Conv", ("", "Relu"): "Relu", ("", "Flatten"): "Flatten",
    ("", "Mul"): "Mul", ("", "Add"): "Add", ("", "MaxPool"): "MaxPool",
    ("fxhls", "AveragePool"): "AveragePool", ("fxhls", "GlobalAveragePool"): "GlobalAveragePool",
}


def load_onnx(path_or_proto) -> Graph:
    """The typed graph of an fxhls ONNX file (or `onnx.ModelProto`), types inferred."""
    proto = path_or_proto if isinstance(path_or_proto, onnx.ModelProto) else _read(path_or_proto)
    constants = {init.name: torch.from_numpy(numpy_helper.to_array(init).astype("float64")) for init in proto.graph.initializer}
    tensors = {name: Tensor(name, tuple(data.shape), None, data) for name, data in constants.items()}
    inputs = [i for i in proto.graph.input if i.name not in constants]
    for value in inputs:
        tensors[value.name] = Tensor(value.name, _sample_shape(value))
    nodes = [_node(n) for n in proto.graph.node]
    for node in nodes:
        for name in node.outputs:
            tensors[name] = Tensor(name)
    graph = Graph(nodes, tensors, [i.name for i in inputs], [o.name for o in proto.graph.output])
    return infer_types(graph)


def _read(path) -> onnx.ModelProto:
    try:
        return onnx.load(str(path))
    except Exception as err:  # onnx raises DecodeError and others for a file that is not ONNX
        raise ValueError(f"{path}: not an ONNX model ({type(err).__name__})") from None


def _sample_shape(value) -> tuple[int, ...]:
    dims = value.type.tensor_type.shape.dim
    shape = []
    for i, dim in enumerate(dims[1:], start=1):
        if not dim.HasField("dim_value"):
            raise ValueError(f"input {value.name!r}: dimension {i} is dynamic; only the batch dimension (0) may be")
        shape.append(dim.dim_value)
    return tuple(shape)


def _node(n) -> Node:
    op = _SUPPORTED.get((n.domain if n.domain != "ai.onnx" else "", n.op_type))
    if op is None:
        supported = ", ".join(sorted({f"{d}.{o}" if d else o for d, o in _SUPPORTED}))
        raise ValueError(f"node {n.name!r}: op {n.domain + '.' if n.domain else ''}{n.op_type} is not supported "
                         f"(supported: {supported})")
    attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
    attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
    if op == "Conv":
        attrs["pads"] = list(attrs.get("pads", [0, 0, 0, 0]))[:2]
        attrs.setdefault("strides", [1, 1])
    return Node(op, n.name, list(n.input), list(n.output), attrs)
