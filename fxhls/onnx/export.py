"""Export a QFX model to ONNX that carries every fixed-point fact.

The model runs once in eval mode with forward hooks on its QFX layers, which
record the layers in execution order with the tensors they read and write. Each
layer becomes standard ONNX ops (Gemm, Conv, Relu, Mul, Add, MaxPool, Flatten)
plus nodes of the custom domain "fxhls": `Quantize` (attributes width, int_bits,
signed, rounding, overflow) after every quantized value, with `khot` or `binary`
on weights; `Sign`; `AveragePool` and `GlobalAveragePool` (window sum times 1/N, with the
`reciprocal_type` 1/N is rounded to unless N is a power of two); and `Gemm`/`Conv` with an `acc_type` when the accumulator is
narrowed. Weights are initializers holding their quantized, exact values. The
graph computes in double, with a symbolic batch dimension.

Names follow the model's module paths, as `model.named_modules()` gives them, so the
HLS project's layers, files and report rows and `fxhls build --reuse` read as the
model does: a layer `features.0` writes nodes `features.0/Conv` and
`features.0/Quantize`, initializers `features.0.weight` and `features.0.bias` (read
through `features.0/weight/Quantize`), and tensors named after the node that writes
them (`features.0/Conv:0`). A layer called again gets `_2`, `_3`, ... after its path.
"""

from __future__ import annotations

import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from fxhls.ir.ops.quantize import type_attrs
from fxhls.qfx import (QAdaptiveAvgPool2d, QAdd, QAvgPool2d, QBatchNorm1d, QBatchNorm2d, QConv2d,
                       QFlatten, QInput, QLinear, QMaxPool2d, QReLU, QSign)
from fxhls.qfx.elementwise import RECIPROCAL_TYPE

DOMAIN = "fxhls"
OPSET = 17


def export_onnx(model: torch.nn.Module, example_input: torch.Tensor, path) -> onnx.ModelProto:
    """Write `model` (QFX layers) as ONNX to `path`, tracing it on `example_input`
    (batch first); returns the checked model."""
    output, calls = _record_calls(model, example_input)
    if not calls or calls[-1][2] is not output:
        raise ValueError("export_onnx: the model's output does not come from a QFX layer")
    paths = {id(module): path or type(module).__name__ for path, module in model.named_modules()}
    writer = _Writer()
    writer.names[id(example_input)] = writer.unique("input")
    input_name = writer.names[id(example_input)]
    for module, inputs, result in calls:
        writer.layer(paths[id(module)], module, inputs, result)
    graph = helper.make_graph(
        writer.nodes, "fxhls",
        [helper.make_tensor_value_info(input_name, TensorProto.DOUBLE, ["batch", *example_input.shape[1:]])],
        [helper.make_tensor_value_info(writer.names[id(output)], TensorProto.DOUBLE, ["batch", *output.shape[1:]])],
        writer.initializers)
    proto = helper.make_model(graph, producer_name="fxhls",
                              opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(DOMAIN, 1)])
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return proto


_LAYERS = (QInput, QLinear, QConv2d, QReLU, QFlatten, QSign, QBatchNorm1d, QBatchNorm2d, QMaxPool2d, QAdd, QAvgPool2d, QAdaptiveAvgPool2d)


def _record_calls(model, example_input):
    calls = []

    def hook(module, inputs, output):
        calls.append((module, inputs, output))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, _LAYERS)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(example_input)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return output, calls


class _Writer:
    """The nodes and initializers of the graph so far; `names` maps each recorded tensor
    (by id) to its value's name, `scope` is the path of the layer being written."""

    def __init__(self):
        self.nodes, self.initializers, self.names = [], [], {}
        self.scope = ""
        self._names: set[str] = set()  # of nodes, values and initializers
        self._scopes: set[str] = set()

    def unique(self, name: str, taken: set[str] | None = None) -> str:
        """`name`, or `name_2`, `name_3`, ... if it is in `taken` (default: the names so far)."""
        taken = self._names if taken is None else taken
        candidate, count = name, 1
        while candidate in taken:
            count += 1
            candidate = f"{name}_{count}"
        taken.add(candidate)
        return candidate

    def node(self, op, inputs, domain="", role="", **attrs) -> str:
        """Add node `scope/[role/]op`; returns the name of its output."""
        name = self.unique("/".join(filter(None, (self.scope, role, op))))
        out = self.unique(f"{name}:0")
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, domain=domain, **attrs))
        return out

    def quantize(self, x: str, t, role="", **facts) -> str:
        return self.node("Quantize", [x], domain=DOMAIN, role=role, **type_attrs(t), **facts)

    def constant(self, values: torch.Tensor, t, role: str, **facts) -> str:
        """Initializer `scope.role` holding `values`, read through its Quantize node."""
        name = self.unique(f"{self.scope}.{role}")
        self.initializers.append(numpy_helper.from_array(values.detach().double().numpy(), name))
        return self.quantize(name, t, role=role, **facts)

    def layer(self, path: str, module, inputs, output):
        unknown = [t for t in inputs if id(t) not in self.names]
        if unknown:
            raise ValueError(f"export_onnx: an input of {type(module).__name__} comes from an operation outside "
                             f"QFX layers (supported layers: {', '.join(c.__name__ for c in _LAYERS)})")
        x = [self.names[id(t)] for t in inputs]
        self.scope = self.unique(path, self._scopes)
        y = getattr(self, "_" + type(module).__name__)(module, x)
        self.names[id(output)] = y

    def _QInput(self, m, x):
        return self.quantize(x[0], m.output_type)

    def _weighted(self, m, x, op, **attrs):
        facts = {"khot": m.khot} if m.khot is not None else {"binary": 1} if m.binary else {}
        inputs = [x[0], self.constant(m.quantized_weight(), m.weight_type, "weight", **facts)]
        if m.bias is not None:
            inputs.append(self.constant(m.quantized_bias(), m.bias_type, "bias"))
        if m.user_acc_type is not None:
            acc = self.node(op, inputs, domain=DOMAIN, acc_type=str(m.user_acc_type), **attrs)
        else:
            acc = self.node(op, inputs, **attrs)
        return self.quantize(acc, m.output_type)

    def _QLinear(self, m, x):
        return self._weighted(m, x, "Gemm", transB=1)

    def _QConv2d(self, m, x):
        ph, pw = m.padding
        return self._weighted(m, x, "Conv", kernel_shape=list(m.kernel_size), strides=list(m.stride),
                              pads=[ph, pw, ph, pw])

    def _QReLU(self, m, x):
        return self.quantize(self.node("Relu", x), m.output_type)

    def _QFlatten(self, m, x):
        return self.node("Flatten", x, axis=1)

    def _QSign(self, m, x):
        return self.node("Sign", x, domain=DOMAIN)

    def _QMaxPool2d(self, m, x):
        if m.padding not in (0, (0, 0)) or m.dilation not in (1, (1, 1)) or m.ceil_mode:
            raise ValueError("export_onnx: QMaxPool2d with padding, dilation or ceil_mode is not supported")
        kernel = torch.nn.modules.utils._pair(m.kernel_size)
        stride = torch.nn.modules.utils._pair(m.stride)
        return self.node("MaxPool", x, kernel_shape=list(kernel), strides=list(stride))

    def _average(self, m, x, op, **attrs):
        # fxhls.fixed.reciprocal applies the type only where 1/N is not a power of two
        node = self.node(op, x, domain=DOMAIN, reciprocal_type=str(RECIPROCAL_TYPE), **attrs)
        return self.quantize(node, m.output_type)

    def _QAvgPool2d(self, m, x):
        return self._average(m, x, "AveragePool", kernel_shape=list(m.kernel_size), strides=list(m.stride))

    def _QAdaptiveAvgPool2d(self, m, x):
        return self._average(m, x, "GlobalAveragePool")

    def _QAdd(self, m, x):
        return self.quantize(self.node("Add", x), m.output_type)

    def _QBatchNorm(self, m, x):
        scale, shift = m.quantized_affine()
        shape = [-1, 1, 1] if isinstance(m, QBatchNorm2d) else [-1]
        facts = {"khot": m.khot} if m.khot is not None else {}
        product = self.node("Mul", [x[0], self.constant(scale.view(shape), m.scale_type, "scale", **facts)])
        total = self.node("Add", [product, self.constant(shift.view(shape), m.shift_type, "shift")])
        return self.quantize(total, m.output_type)

    _QBatchNorm1d = _QBatchNorm2d = _QBatchNorm
