"""The graph under construction while an ONNX model is imported, and what op converters share.

A converter (one function per ONNX op) reads an `OnnxNode` and adds IR nodes through
the `ImportContext`, which infers each node's shapes and types as it is added: a
converter can look at its inputs' shapes and types before it decides.

Tensors computed from constants only are *static* (weights, biases, their quantizers);
their shapes are full shapes, where an activation's shape leaves out the batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from onnx import helper

from fxhls.fixed import FixedType, exact_type
from fxhls.ir import Graph, Node, Tensor, infer_types

_FLOAT64_SIGNIFICAND = 53


@dataclass
class OnnxNode:
    """An ONNX node with its attributes decoded to plain values; `domain` "" is standard ONNX."""

    name: str
    op_type: str
    domain: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict

    @classmethod
    def read(cls, proto) -> "OnnxNode":
        attrs = {a.name: helper.get_attribute_value(a) for a in proto.attribute}
        attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
        domain = "" if proto.domain == "ai.onnx" else proto.domain
        node = cls(proto.name or proto.output[0], proto.op_type, domain, list(proto.input), list(proto.output), {})
        node.attrs = _Attributes(attrs, node)
        return node

    @property
    def qualified_op(self) -> str:
        """domain.op (op alone in the standard domain), quoted when it is not a plain name,
        so that an error message stays one line whatever the file holds."""
        op = f"{self.domain}.{self.op_type}" if self.domain else self.op_type
        return op if re.fullmatch(r"[\w.]+", op, flags=re.ASCII) else repr(op)

    def refuse(self, reason: str) -> ValueError:
        """The one-line error for this node: `raise node.refuse("why")`."""
        return ValueError(f"node {self.name!r} ({self.qualified_op}): {reason}")


class _Attributes(dict):
    """A node's attributes; reading one the node lacks is a one-line error naming the node."""

    def __init__(self, values: dict, node: OnnxNode):
        super().__init__(values)
        self._node = node

    def __missing__(self, name: str):
        raise self._node.refuse(f"attribute {name!r} is missing")


class ImportContext:
    """Tensors by name, IR nodes in order, ONNX names that alias IR tensors, which
    tensors are static, the float chains ONNX names stand for (`float_scaled`), and the
    tables that wait for the quantizer giving their output type (`table_ops`).
    `batch` is the batch size the model was exported with (None when symbolic); `opsets`
    maps each ONNX domain to its opset version; `used` holds the ONNX names some node
    reads or the graph outputs (an op with an output it cannot compute refuses only a used
    one); `qonnx` says whether the model is QONNX (float32 semantics, one rounding per ONNX op);
    `typed_input` whether the user gave its float input a fixed-point type (`--input-type`)."""

    def __init__(self, batch: int | None, opsets: dict[str, int], used: frozenset[str] = frozenset(),
                 qonnx: bool = False, typed_input: bool = False):
        self.batch, self.opsets, self.used, self.qonnx = batch, opsets, used, qonnx
        self.typed_input = typed_input
        self.tensors: dict[str, Tensor] = {}
        self.nodes: list[Node] = []
        self._aliases: dict[str, str] = {}
        self._static: set[str] = set()
        self._producers: dict[str, Node] = {}
        self.chains: dict[str, dict] = {}
        self.pending_tables: dict[str, tuple[Node, OnnxNode]] = {}

    def add_input(self, name: str, shape: tuple[int, ...]) -> None:
        self.tensors[name] = Tensor(name, shape)

    def add_constant(self, name: str, data: np.ndarray, t: FixedType | None = None) -> str:
        """A constant tensor (its values as float64, full shape); returns its name, made unique."""
        name = self.fresh(name)
        self.tensors[name] = Tensor(name, tuple(data.shape), t, np.array(data, dtype=np.float64))
        self._static.add(name)
        return name

    def fresh(self, stem: str) -> str:
        """A new tensor name (reserved) built from `stem`, for a value a converter adds."""
        name, count = stem, 0
        while name in self.tensors:
            count += 1
            name = f"{stem}_{count}"
        self.tensors[name] = Tensor(name)
        return name

    def node_name(self, stem: str) -> str:
        """A node name built from `stem` that no node has yet."""
        names = {node.name for node in self.nodes}
        name, count = stem, 0
        while name in names:
            count += 1
            name = f"{stem}_{count}"
        return name

    def name(self, onnx_name: str) -> str:
        """The IR tensor an ONNX tensor name stands for."""
        return self._aliases.get(onnx_name, onnx_name)

    def alias(self, onnx_name: str, ir_name: str) -> None:
        """From now on `onnx_name` stands for the IR tensor `ir_name` (an op that moves no value)."""
        self._aliases[onnx_name] = self.name(ir_name)

    def tensor(self, onnx_name: str) -> Tensor:
        return self.tensors[self.name(onnx_name)]

    def constant(self, onnx_name: str) -> np.ndarray | None:
        """The values of a constant tensor, None for any other."""
        return self.tensor(onnx_name).data

    def is_static(self, onnx_name: str) -> bool:
        return self.name(onnx_name) in self._static

    def producer(self, onnx_name: str) -> Node | None:
        return self._producers.get(self.name(onnx_name))

    def add(self, node: Node, onnx_node: OnnxNode) -> None:
        """Append `node` (its input names resolved through aliases) and infer its outputs'
        shapes and types; an inference error is reported against `onnx_node`."""
        node.inputs = [self.name(name) for name in node.inputs]
        for name in node.outputs:
            self.tensors.setdefault(name, Tensor(name))
            self._producers[name] = node
        self.nodes.append(node)
        try:
            infer_types(Graph([node], self.tensors, [], []))
        except ValueError as err:
            raise onnx_node.refuse(str(err).splitlines()[0]) from None
        if all(name in self._static for name in node.inputs):
            self._static.update(node.outputs)

    def operand(self, onnx_name: str, onnx_node: OnnxNode) -> str:
        """The IR name of a value an op computes with. A constant used without a quantizer
        gets the exact type of its values (float32 values are fixed-point numbers)."""
        tensor = self.tensor(onnx_name)
        if tensor.data is not None and tensor.type is None:
            tensor.type = exact_type(tensor.data)
            if tensor.type.width > _FLOAT64_SIGNIFICAND:
                raise onnx_node.refuse(f"constant {onnx_name!r} is not quantized and its values span "
                                       f"{tensor.type.width} bits (at most {_FLOAT64_SIGNIFICAND}); quantize it")
        return tensor.name

    def static_view(self, onnx_name: str, view, onnx_node: OnnxNode) -> str:
        """A static tensor with `view` (reshape, transpose: it moves values) applied: to
        the constant itself, or to the constant under the Quantize that computes it
        (element-wise, so they commute). Returns the new tensor's name."""
        tensor, producer = self.tensor(onnx_name), self.producer(onnx_name)
        if tensor.data is not None:
            return self.add_constant(tensor.name, view(tensor.data), tensor.type)
        if producer is not None and producer.op == "Quantize" and self.tensors[producer.inputs[0]].data is not None:
            source = self.tensors[producer.inputs[0]]
            moved = self.add_constant(source.name, view(source.data), source.type)
            quantize = Node("Quantize", self.node_name(producer.name), [moved], [self.fresh(tensor.name)],
                            dict(producer.attrs))
            self.add(quantize, onnx_node)
            return quantize.outputs[0]
        raise onnx_node.refuse(f"{onnx_name!r} is computed from constants by "
                               f"{producer.op if producer else 'an op'}; only a constant or a quantized "
                               f"constant can be reshaped here")

    def graph(self, inputs: list[str], outputs: list[str]) -> Graph:
        """The finished graph: the nodes the outputs depend on, and the tensors they use."""
        outputs = [self.name(name) for name in outputs]
        for name in outputs:
            if name not in self._producers and name not in inputs and self.tensors.get(name, Tensor(name)).data is None:
                raise ValueError(f"graph output {name!r} is computed by no node and is not a constant")
        needed, nodes = set(outputs), []
        for node in reversed(self.nodes):
            if needed.intersection(node.outputs):
                nodes.insert(0, node)
                needed.update(node.inputs)
        used = {name for node in nodes for name in (*node.inputs, *node.outputs)} | set(inputs) | set(outputs)
        return Graph(nodes, {name: t for name, t in self.tensors.items() if name in used}, inputs, outputs)
