"""Types for a float model: the step at import that makes it an ordinary fixed-point one.

Given a `ModelConfig` (`--input-type`, `--default-type`, `--config`), fxhls `Quantize`
nodes go into a model that has no quantizer: after each data input (its input type, else
the default type), after each float initializer a layer computes with (Gemm, Conv and
MatMul weights and biases; an Add's constant is a bias, a Mul's a weight, a PRelu's slope
a weight) and after each layer's output (Gemm, MatMul, Conv, Add, Mul, average pools,
LeakyRelu, PRelu, BatchNormalization; Relu, MaxPool, Flatten, Resize and Pad keep their input's type exactly,
unless the config gives their node an output type). A LeakyRelu's slope (its `alpha`) is
quantized to the node's weight type, given as its `slope_type` attribute; a
BatchNormalization's derived scale and shift (`fxhls.onnx.batchnorm`) to its weight and bias
types, given as its `scale_type` and `shift_type` attributes. An
activation computed as a table (`fxhls.onnx.table_ops`: Sigmoid, Tanh, ...) and a Softmax
get their output type as the node's `table_type` attribute instead of a cast after it (a
Softmax also the config's `exp`, `sum` and `reciprocal` types, `fxhls.onnx.softmax_ops`). A
config `accumulator` narrows a Gemm, MatMul or Conv (fxhls's `acc_type`); otherwise sums
are exact. The rest of the import then reads a fixed-point model, so the emulator
computes exactly what the generated C++ and RTL compute.

A quantized model whose first layer reads its float input as it is (a QKeras model as
qonnx converts it: hls4ml gives the input a precision) takes `--input-type` alone: a
Quantize after its input, nothing else.

Refused in one line: a float model loaded without types, and an input or constant left
without a type (naming the tensor and how to give one); other types for a model that has
quantizers (mixed models are not typed yet), and an input type for an input a quantizer
reads; a config entry that names no node.
"""

from __future__ import annotations

import onnx
from onnx import helper

from fxhls.ir.ops.quantize import type_attrs
from fxhls.model_config import LAYER_TYPES, ModelConfig

from . import fxhls_ops
from .batchnorm import SCALE_ATTRIBUTE, SHIFT_ATTRIBUTE
from .qonnx_cleanup import QONNX_DOMAINS
from .slope_ops import SLOPE_ATTRIBUTE
from .softmax_ops import SOFTMAX_CONFIG_KEYS
from .table_ops import CONVERTERS as TABLE_OPS, TYPE_ATTRIBUTE

_LAYER_OUTPUTS = {"Gemm", "MatMul", "Conv", "Add", "Mul", "AveragePool", "GlobalAveragePool", "ReduceMean",
                  "LeakyRelu", "PRelu", "BatchNormalization"}
# the operand positions of a layer's constants, and which type each takes
_CONSTANTS = {"Gemm": {1: "weight", 2: "bias"}, "Conv": {1: "weight", 2: "bias"}, "MatMul": {1: "weight"},
              "Add": {0: "bias", 1: "bias"}, "Mul": {0: "weight", 1: "weight"}, "PRelu": {1: "weight"}}
_NARROWABLE = {"Gemm", "MatMul", "Conv"}
_QUANTIZER_OPS = {"Quantize", "Sign", "Quant", "BipolarQuant", "Trunc", "MultiThreshold"}

HOW_TO_TYPE = "give one with --input-type/--default-type T (e.g. ap_fixed<16,6>) or --config FILE"


def type_float_model(proto: onnx.ModelProto, config: ModelConfig | None, source: str) -> onnx.ModelProto:
    """`proto` with a Quantize wherever `config` types a value the model leaves untyped
    (a copy). Without `config`, `proto` itself, refused when it has no quantizer; types
    given for a model that has quantizers are refused (they are for float models)."""
    quantizer = next((node for node in proto.graph.node if _is_quantizer(node)), None)
    if config is None or not config.gives_types():
        if quantizer is None:
            data = [value.name for value in proto.graph.input if value.name not in
                    {init.name for init in proto.graph.initializer}]
            raise ValueError(float_model_refusal(source, data[0]))
        if config is not None:
            config.check_layers(node.name for node in proto.graph.node)
        return proto
    if quantizer is not None:
        if config.default_type is None and not any(key in LAYER_TYPES for entry in config.layers.values()
                                                   for key in entry):
            return _typed_float_input(proto, config.input_type, source)
        raise ValueError(f"{source}: the model is quantized already (node {quantizer.name!r} is a "
                         f"{quantizer.op_type}); --default-type and config types are for float models "
                         f"(--input-type alone types a quantized model's float input)")
    config.check_layers(node.name for node in proto.graph.node)
    typed = onnx.ModelProto()
    typed.CopyFrom(proto)
    _Typing(typed.graph, config, source).run()
    typed.opset_import.append(helper.make_opsetid(fxhls_ops.DOMAIN, fxhls_ops.VERSION))
    return typed


def _typed_float_input(proto: onnx.ModelProto, input_type, source: str) -> onnx.ModelProto:
    """A quantized model whose float input its first layer reads as it is (QKeras's, as
    qonnx converts it, hls4ml's input precision left to the user): a Quantize to
    `input_type` after the data input, as in a float model (a copy). Refused where a
    quantizer reads the input already."""
    typed = onnx.ModelProto()
    typed.CopyFrom(proto)
    graph, initializers = typed.graph, {init.name for init in typed.graph.initializer}
    for value in [v for v in graph.input if v.name not in initializers]:
        readers = _consumers(graph).get(value.name, [])
        quantizer = next((node for node in readers if _is_quantizer(node)), None)
        if quantizer is not None:
            raise ValueError(f"{source}: input {value.name!r} is quantized by node {quantizer.name!r} already; "
                             f"--input-type is for a quantized model's float input")
        cast = f"{value.name}_q"
        while any(cast in (*node.input, *node.output) for node in graph.node) or cast in initializers:
            cast += "_"
        for node in readers:
            node.input[:] = [cast if name == value.name else name for name in node.input]
        graph.node.insert(0, _quantize(cast, input_type, f"{value.name}/Quantize", inputs=[value.name]))
    typed.opset_import.append(helper.make_opsetid(fxhls_ops.DOMAIN, fxhls_ops.VERSION))
    return typed


def float_model_refusal(source: str, input_name: str) -> str:
    """What a float model loaded without types is told."""
    return (f"{source}: a float model (no quantizer between its input and its output): input {input_name!r} needs "
            f"a fixed-point type; {HOW_TO_TYPE}, or quantize the model with fxhls.qfx or Brevitas (QONNX)")


class _Typing:
    """The casts for one float graph, appended node by node into `nodes` in graph order."""

    def __init__(self, graph, config: ModelConfig, source: str):
        self.graph, self.config, self.source = graph, config, source
        self.consumers = _consumers(graph)
        self.initializers = {init.name for init in graph.initializer}
        self.names = {name for node in graph.node for name in (*node.input, *node.output)} | self.initializers | \
            {value.name for value in graph.input}
        self.nodes: list = []

    def run(self) -> None:
        for value in self.graph.input:
            if value.name not in self.initializers:
                t = self.config.input_type or self.config.default_type
                if t is None:
                    raise ValueError(f"{self.source}: input {value.name!r} has no fixed-point type; {HOW_TO_TYPE}")
                quantized = self._cast(value.name, t, f"{value.name}/Quantize")
                for node in self.consumers.get(value.name, []):
                    node.input[:] = [quantized if name == value.name else name for name in node.input]
        for node in list(self.graph.node):
            if node.domain in ("", "ai.onnx"):
                self._type_layer(node)
            else:
                self.nodes.append(node)
        del self.graph.node[:]
        self.graph.node.extend(self.nodes)

    def _type_layer(self, node) -> None:
        """Append `node` with casts of its float constants before it and of its output after it."""
        settings = self.config.layer(node.name)
        for index, kind in _CONSTANTS.get(node.op_type, {}).items():
            name = node.input[index] if index < len(node.input) else ""
            if name in self.initializers:
                if kind not in settings:
                    raise ValueError(f"{self.source}: the {kind} {name!r} of node {node.name!r} has no fixed-point "
                                     f"type; give one with --default-type T or a config entry for the node")
                node.input[index] = self._cast(name, settings[kind], f"{node.name}/{kind}_quantize")
        if node.op_type == "LeakyRelu":
            if "weight" not in settings:
                raise ValueError(f"{self.source}: the slope (alpha) of node {node.name!r} has no fixed-point type; "
                                 f"give one with --default-type T or a config weight for the node")
            node.attribute.append(helper.make_attribute(SLOPE_ATTRIBUTE, str(settings["weight"])))
        if node.op_type == "BatchNormalization":
            missing = [kind for kind in ("weight", "bias") if kind not in settings]
            if missing:
                raise ValueError(f"{self.source}: the BatchNormalization node {node.name!r} has no {missing[0]} type "
                                 f"(its per-channel {'scale' if missing[0] == 'weight' else 'shift'}); give one with "
                                 f"--default-type T or a config {missing[0]} for the node")
            node.attribute.extend([helper.make_attribute(SCALE_ATTRIBUTE, str(settings["weight"])),
                                   helper.make_attribute(SHIFT_ATTRIBUTE, str(settings["bias"]))])
        self.nodes.append(node)
        if "accumulator" in settings and node.op_type in _NARROWABLE:
            node.attribute.append(helper.make_attribute("acc_type", str(settings["accumulator"])))
        if node.op_type in TABLE_OPS or node.op_type == "Softmax":
            if "output" not in settings:
                raise ValueError(f"{self.source}: the {node.op_type} node {node.name!r} (a lookup table) has no "
                                 f"output type; give one with --default-type T or a config output for the node")
            node.attribute.append(helper.make_attribute(TYPE_ATTRIBUTE, str(settings["output"])))
            node.attribute.extend(helper.make_attribute(attribute, str(settings[key]))
                                  for key, attribute in SOFTMAX_CONFIG_KEYS.items() if key in settings)
            return
        explicit = "output" in self.config.layers.get(node.name, {})
        if "output" in settings and (node.op_type in _LAYER_OUTPUTS or explicit):
            computed = self._fresh(f"{node.output[0]}_float")
            self.nodes.append(_quantize(node.output[0], settings["output"], f"{node.name}/output_quantize",
                                        inputs=[computed]))
            node.output[0] = computed

    def _cast(self, name: str, t, node_name: str) -> str:
        """A Quantize of `name` to `t` appended; returns its output's name."""
        out = self._fresh(f"{name}_q")
        self.nodes.append(_quantize(out, t, node_name, inputs=[name]))
        return out

    def _fresh(self, stem: str) -> str:
        name, count = stem, 0
        while name in self.names:
            count += 1
            name = f"{stem}_{count}"
        self.names.add(name)
        return name


def _quantize(output: str, t, node_name: str, inputs: list[str]):
    return helper.make_node("Quantize", inputs, [output], name=node_name, domain=fxhls_ops.DOMAIN, **type_attrs(t))


def _consumers(graph) -> dict:
    consumers: dict = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    return consumers


def _is_quantizer(node) -> bool:
    return node.op_type in _QUANTIZER_OPS and node.domain in (fxhls_ops.DOMAIN, *QONNX_DOMAINS)
