"""Export a QFX model to ONNX that carries every fixed-point fact.

The model is traced with torch.fx (QFX layers kept whole) and run in eval mode on
the example input, which gives every node's shape. Each QFX layer becomes standard ONNX
ops (Gemm, Conv, Relu, Mul, Add, PRelu, MaxPool, Flatten, Resize, Pad, ArgMax; Sigmoid,
Tanh, ... for the table activations, which the importer reads as one Table with the
Quantize after them) plus a quantizer after every quantized value: QONNX's `Quant` where
QONNX expresses the type (`export_qonnx`), else a node of the custom domain "fxhls":
`Quantize` (attributes width, int_bits, signed, rounding, overflow), with `khot` or
`binary` on weights; `Sign`; `AveragePool` and `GlobalAveragePool` (window sum times 1/N,
with the `reciprocal_type` 1/N is rounded to unless N is a power of two); `Softmax` (the
IR's algorithm, its output type as Quantize's attributes, and `exp_type`, `sum_type`,
`reciprocal_type` where given); and `Gemm`/`Conv` with an `acc_type` when the accumulator is
narrowed. 1-D layers are their 2-D ops over a one-row image, between Reshapes. Weights are initializers holding their quantized, exact values. The
graph computes in double, with a symbolic batch dimension.

Names follow the model's module paths, as `model.named_modules()` gives them, so the
HLS project's layers, files and report rows and `fxhls build --reuse` read as the
model does: a layer `features.0` writes nodes `features.0/Conv` and
`features.0/Quantize`, initializers `features.0.weight` and `features.0.bias` (read
through `features.0/weight/Quantize`), and tensors named after the node that writes
them (`features.0/Conv:0`). A layer called again gets `_2`, `_3`, ... after its path.

Between QFX layers only ops that move values are exported (`nn.Flatten`, `QFlatten`,
`torch.flatten`, `view`, `reshape`, `squeeze`, `unsqueeze`, `nn.Identity`, dropout in
eval mode), as Flatten (a whole sample to a vector) or Reshape (any other shape, the
batch axis kept); `.size()` and `.shape` only feed their sizes. Any other op there
(`y.mul_(0.5)`, `x * 2`, a float `nn.Linear`) changes values the emulator would not
see: the export refuses it, naming each such node and its source line, and writes
nothing.
"""

from __future__ import annotations

import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper
from torch import fx, nn

from fxhls.onnx.export_qonnx import as_qonnx
from fxhls.onnx.export_runnable import made_runnable
from fxhls.onnx.export_writer import DOMAIN, LAYERS, OnnxWriter
from fxhls.qfx import QArgMax, QFlatten
from fxhls.qfx.reshape import QReshape, QSqueeze, QUnsqueeze
from fxhls.qfx.tracing import describe, trace
from fxhls.qfx.typed import type_of

OPSET = 17

_SHAPE_MODULES = (nn.Identity, nn.Flatten, nn.Unflatten, nn.modules.dropout._DropoutNd, QFlatten, QReshape, QSqueeze,
                  QUnsqueeze)
_SHAPE_FUNCTIONS = {torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze}
_DROPOUT_FUNCTIONS = {F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout}
_SHAPE_METHODS = {"view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "contiguous", "view_as",
                  "reshape_as"}
SHAPE_OPS = ("nn.Flatten, QFlatten, QReshape, QSqueeze, QUnsqueeze, nn.Unflatten, nn.Identity, nn.Dropout and F.dropout in eval mode, "
             "torch.flatten/reshape/squeeze/unsqueeze, and the tensor methods "
             + ", ".join(f".{name}()" for name in sorted(_SHAPE_METHODS)))


def export_onnx(model: torch.nn.Module, example_input: torch.Tensor, path, qonnx: bool | None = None
                ) -> onnx.ModelProto:
    """Write `model` (QFX layers, and shape-only ops between them) as ONNX to `path`, tracing
    it on `example_input` (batch first); returns the checked model. An op between layers that
    changes values is a ValueError naming it, and nothing is written.

    By default every cast QONNX expresses is a QONNX `Quant` at a power-of-two scale (see
    `export_qonnx`), for qonnx, FINN and hls4ml, and the rest stays in fxhls's domain; every
    node runs in onnxruntime (QONNX and fxhls nodes through ONNX function bodies).
    `qonnx=True` refuses, naming it, a node QONNX cannot express or a tensor qonnx's executor
    cannot compute exactly; `qonnx=False` writes fxhls's `Quantize` everywhere."""
    graph_module = trace(model, "export_onnx", leaves=LAYERS + _SHAPE_MODULES)
    runs = _record_shapes(graph_module, model, example_input)
    graph = _Export(graph_module, runs).graph(example_input)
    proto = helper.make_model(graph, producer_name="fxhls",
                              opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(DOMAIN, 1)])
    proto = made_runnable(proto)
    if qonnx is not False:
        proto = as_qonnx(proto, strict=bool(qonnx))
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))
    return proto


def _record_shapes(graph_module: fx.GraphModule, model: nn.Module, x: torch.Tensor) -> list[_Run]:
    """Each node's output shape (None when it is no tensor) and fixed-point type, in eval mode,
    on `x` and on `x` with one sample more: a shape-only op must keep the batch axis whatever
    the batch."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return [_ShapeRecorder(graph_module).run_on(batch) for batch in (x, torch.cat([x, x[:1]]))]
    finally:
        model.train(was_training)


class _Run(dict):
    """Each node's output shape (None when it is no tensor); `types`: each node's FixedType
    (None where no QFX layer tagged it)."""

    def __init__(self):
        super().__init__()
        self.types: dict = {}


class _ShapeRecorder(fx.Interpreter):
    def run_on(self, x: torch.Tensor) -> _Run:
        self.shapes = _Run()
        self.run(x)
        return self.shapes

    def run_node(self, node):
        result = super().run_node(node)
        tensor = isinstance(result, torch.Tensor)
        self.shapes[node] = tuple(result.shape) if tensor else None
        self.shapes.types[node] = type_of(result) if tensor else None
        return result


class _Export:
    """Walks the traced graph in order, writing each node or noting why it cannot be written."""

    def __init__(self, graph_module: fx.GraphModule, runs: list[dict]):
        self.graph_module, self.runs = graph_module, runs
        self.modules = dict(graph_module.named_modules())
        self.writer = OnnxWriter()
        self.names: dict[fx.Node, str] = {}  # each written node -> its value's name
        self.problems: list[str] = []

    def graph(self, example_input: torch.Tensor) -> onnx.GraphProto:
        nodes = list(self.graph_module.graph.nodes)
        inputs = [node for node in nodes if node.op == "placeholder"]
        if len(inputs) != 1:
            raise ValueError(f"export_onnx: models with one input tensor are supported; forward takes {len(inputs)}")
        self.names[inputs[0]] = self.writer.unique("input")
        for node in nodes:
            if node.op not in ("placeholder", "output"):
                self._write(node)
        if self.problems:
            raise ValueError("export_onnx: " + "\n  ".join(self.problems))
        output = self._output(nodes[-1])
        shape = self.runs[0][output][1:]
        indices = isinstance(self.modules.get(output.target), QArgMax)
        return helper.make_graph(
            self.writer.nodes, "fxhls",
            [helper.make_tensor_value_info(self.names[inputs[0]], TensorProto.DOUBLE,
                                           ["batch", *example_input.shape[1:]])],
            [helper.make_tensor_value_info(self.names[output], TensorProto.INT64 if indices else TensorProto.DOUBLE,
                                           ["batch", *shape])],
            self.writer.initializers)

    def _output(self, node: fx.Node) -> fx.Node:
        (value,) = node.args
        if not isinstance(value, fx.Node) or value not in self.names or value.op == "placeholder":
            raise ValueError("export_onnx: the model's output must be one tensor computed by QFX layers")
        return value

    def _write(self, node: fx.Node) -> None:
        module = self.modules[node.target] if node.op == "call_module" else None
        if isinstance(module, LAYERS):
            self._layer(node, module)
        elif _moves_values(node, module):
            self._reshape(node, module)
        elif self.runs[0][node] is not None:
            self.problems.append(f"{describe(node, module)} changes values outside a QFX layer; between QFX "
                                 f"layers only ops that move values are exported: {SHAPE_OPS}")
        # else: a size, a shape or a number (x.size(0), x.shape[0]), which only feeds a shape op

    def _inputs(self, node: fx.Node, module, tensors: tuple) -> list[str] | None:
        if not all(isinstance(t, fx.Node) for t in tensors):
            self.problems.append(f"{describe(node, module)} takes an argument that is not a tensor")
            return None
        if any(t not in self.names for t in tensors):
            return None  # it reads a node already refused
        return [self.names[t] for t in tensors]

    def _layer(self, node: fx.Node, module) -> None:
        if node.kwargs:
            self.problems.append(f"{describe(node, module)} is called with keyword arguments")
            return
        inputs = self._inputs(node, module, node.args)
        if inputs is None:
            return
        if isinstance(module, QArgMax) and any(user.op != "output" for user in node.users):
            self.problems.append(f"{describe(node, module)} is read by another op; an ArgMax (int64 indices) "
                                 f"ends the model")
            return
        samples = [self.runs[0][t][1:] for t in node.args]
        types = [self.runs[0].types[t] for t in node.args]
        try:
            self.names[node] = self.writer.layer(node.target, module, inputs, samples, types)
        except ValueError as err:
            self.problems.append(f"{describe(node, module)}: {err}")

    def _reshape(self, node: fx.Node, module) -> None:
        source = node.args[0] if node.args else node.kwargs.get("input")
        inputs = self._inputs(node, module, (source,))
        if inputs is None:
            return
        before = {self.runs[k][source][1:] for k in range(2)}
        after = {self.runs[k][node][1:] for k in range(2)}
        batches_kept = all(self.runs[k][node][:1] == self.runs[k][source][:1] for k in range(2))
        if not batches_kept or len(after) != 1:
            self.problems.append(f"{describe(node, module)} does not keep the batch axis first "
                                 f"(shape {self.runs[0][source]} to {self.runs[0][node]})")
            return
        path = node.target if module is not None else node.name
        self.names[node] = self.writer.reshape(path, inputs[0], before.pop(), after.pop())


def _moves_values(node: fx.Node, module) -> bool:
    """Whether `node` only moves values (a shape-only op, or dropout in eval mode)."""
    if node.op == "call_module":
        return isinstance(module, _SHAPE_MODULES)
    if node.op == "call_method":
        return node.target in _SHAPE_METHODS
    if node.op == "call_function" and node.target in _DROPOUT_FUNCTIONS:
        training = node.args[2] if len(node.args) > 2 else node.kwargs.get("training", True)
        return training is False
    return node.op == "call_function" and node.target in _SHAPE_FUNCTIONS
