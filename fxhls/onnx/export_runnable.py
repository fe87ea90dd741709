"""The last step of `export_onnx`: make the exported model run outside fxhls, unchanged in value.

The model is imported into the IR (which also checks that the emulator reads it), then
- each tensor is float32 where its type (with a bit to spare for the rounding steps of
  a Quantize body) is exact in float32, else float64, and each node computes in its
  output's float type (a Quantize in its input's, then a Cast), with a Cast before an
  input of another float type: onnxruntime has float32 kernels for every op used, but
  no float64 Conv, and a float32 result that holds its type exactly is the exact value;
  a Conv whose sum fits float32 only without its bias (a bias with more fractional bits
  than the products) becomes the float32 sum, then an Add of the bias (per channel) in
  float64 (fxhls's passes fold that bias back into the layer);
- every fxhls node gets its ONNX function body (`export_functions`);
- ONNX shape inference fills every intermediate shape; a tensor it cannot reach (after
  a node without a body) gets the IR's shape.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from fxhls.fixed import FixedType, accumulator_type
from fxhls.fixed.formats import fits_exactly
from fxhls.ir import Graph

from .export_functions import DOMAIN, add_functions
from .load import load_onnx

_ELEM = {np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE}


def made_runnable(proto: onnx.ModelProto) -> onnx.ModelProto:
    """`proto` (float64, as written) with float32 tensors where exact, function bodies and shapes."""
    graph = load_onnx(proto)
    floats = _FloatTypes(proto, graph)
    nodes = []
    for node in proto.graph.node:
        nodes += floats.retyped(node)
    del proto.graph.node[:]
    proto.graph.node.extend(nodes)
    for value in proto.graph.input:
        value.type.tensor_type.elem_type = _ELEM[floats.have[value.name]]
    for value in proto.graph.output:
        if floats.have[value.name] is not None:  # else ArgMax's int64 indices
            value.type.tensor_type.elem_type = _ELEM[floats.have[value.name]]
    add_functions(proto, graph, floats.computes_in, floats.cast_from)
    proto = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    known = {v.name for v in [*proto.graph.value_info, *proto.graph.output]}
    for node in proto.graph.node:
        for name in node.output:
            if name not in known and name in graph.tensors and graph.tensors[name].shape is not None:
                shape = ["batch", *graph.tensors[name].shape]
                proto.graph.value_info.append(helper.make_tensor_value_info(name, _ELEM[floats.have[name]], shape))
    return proto


class _FloatTypes:
    """Chooses each tensor's float type and the node that computes it; `have` maps each value
    to its float type, `computes_in` each fxhls node to the float type its body runs in,
    `cast_from` each Cast added to the value it reads."""

    def __init__(self, proto: onnx.ModelProto, graph: Graph):
        self.proto, self.graph, self.have, self.computes_in = proto, graph, {}, {}
        self.cast_from: dict[str, str] = {}  # each Cast's output -> the value it casts
        self.initializers = {init.name: init for init in proto.graph.initializer}
        readers = {}
        for node in proto.graph.node:
            for name in node.input:
                readers.setdefault(name, node)
        for name in [v.name for v in proto.graph.input] + list(self.initializers):
            reader = readers.get(name)
            self.have[name] = self._natural(reader.output[0]) if reader is not None else np.float64
        for name, init in self.initializers.items():
            if init.data_type == TensorProto.DOUBLE:
                values = numpy_helper.to_array(init).astype(self.have[name])
                init.CopyFrom(numpy_helper.from_array(values, name))
            else:
                self.have[name] = None  # an integer shape: never cast

    def _natural(self, name: str):
        t = self.graph.tensors[name].type if name in self.graph.tensors else None
        return np.float32 if t is not None and fits_float32(t) else np.float64

    def retyped(self, node) -> list:
        """`node`, with the Casts its inputs need before it and its output needs after it; a
        Conv whose sum fits float32 but not with its bias, as the float32 sum then the bias
        added in float64."""
        if self._bias_needs_float64(node):
            return self._split_bias(node)
        if node.op_type == "ArgMax" and not node.domain:  # reads its input's floats as they are: int64 out
            self.have[node.output[0]] = None
            return [node]
        is_quantize = node.domain == DOMAIN and node.op_type == "Quantize"
        is_softmax = node.domain == DOMAIN and node.op_type == "Softmax"  # its sum and product: float64
        floating = [name for name in node.input if name and self.have.get(name) is not None]
        if is_quantize or node.output[0] not in self.graph.tensors or self.graph.tensors[node.output[0]].type is None:
            want = self.have[floating[0]]
        else:
            want = np.float64 if is_softmax else self._natural(node.output[0])
        before = []
        for i, name in enumerate(node.input):
            if name in floating and self.have[name] != want:
                cast = f"{name}/Cast_{np.dtype(want).name}"
                if cast not in self.have:
                    before.append(helper.make_node("Cast", [name], [cast], name=cast, to=_ELEM[want]))
                    self.have[cast], self.cast_from[cast] = want, name
                node.input[i] = cast
        if node.domain == DOMAIN:
            self.computes_in[node.name] = want
        output = node.output[0]
        natural = self._natural(output) if is_quantize or is_softmax else want
        self.have[output] = natural
        if natural == want:
            return [*before, node]
        node.output[0] = f"{output}/{np.dtype(want).name}"
        self.have[node.output[0]] = want
        return [*before, node, helper.make_node("Cast", [node.output[0]], [output], name=f"{node.name}/Cast",
                                                to=_ELEM[natural])]


    def _bias_needs_float64(self, node) -> bool:
        if node.domain or node.op_type != "Conv" or len(node.input) < 3:  # onnxruntime has a float64 Gemm
            return False
        if self._natural(node.output[0]) == np.float32:
            return False
        x, w = (self.graph.tensors[name] for name in node.input[:2])
        fan_in = int(np.prod(w.shape[1:]))
        return x.type is not None and fits_float32(accumulator_type(x.type, w.type, fan_in))

    def _split_bias(self, node) -> list:
        total = node.output[0]
        bias = node.input.pop()
        node.output[0] = f"{total}/sum"
        extra = []
        if node.op_type == "Conv":  # the bias per channel: (C, 1, 1) beside (N, C, H, W)
            shape, column = f"{node.name}/bias_shape", f"{bias}/column"
            self.proto.graph.initializer.append(numpy_helper.from_array(np.array([-1, 1, 1], dtype=np.int64), shape))
            extra = [helper.make_node("Reshape", [bias, shape], [column], name=f"{node.name}/bias_column")]
            self.have[shape], self.have[column], bias = None, self.have[bias], column
        add = helper.make_node("Add", [node.output[0], bias], [total], name=f"{node.name}/bias")
        return self.retyped(node) + extra + self.retyped(add)


def fits_float32(t: FixedType) -> bool:
    """Whether `t`'s values, and the rounding steps of a cast to it, are exact in float32."""
    return fits_exactly(FixedType(t.width + 1, t.int_bits + 1, t.signed), np.float32)
