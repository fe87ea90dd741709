"""`quantize_model`: a float PyTorch model rewritten with QFX layers, through torch.fx.

The model is traced symbolically; then each node of its graph is handed to the
rule for its module type or function (one small function per rule below), which
builds the QFX layer, with the float weights and statistics copied in, and names
the nodes it takes as inputs. The node becomes a call of that layer, so the
result computes with QFX layers along the model's own forward structure,
residual adds included. A `QInput` follows the graph input.

A layer is named by its module's qualified name; a function call (F.relu, `+`)
by its graph node. A parameter-free module called more than once (one nn.ReLU
used throughout) gives one layer per call: `relu`, `relu_1`, `relu_2`...
"""

from __future__ import annotations

import operator
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import fx, nn

from fxhls.qfx.config import QFXConfig
from fxhls.qfx.elementwise import (
    DEFAULT_ACTIVATION,
    DEFAULT_BN_SCALE,
    DEFAULT_BN_SHIFT,
    DEFAULT_INPUT,
    DEFAULT_SUM,
    QAdaptiveAvgPool2d,
    QAdd,
    QAvgPool2d,
    QBatchNorm1d,
    QBatchNorm2d,
    QFlatten,
    QInput,
    QMaxPool2d,
    QReLU,
)
from fxhls.qfx.weighted import DEFAULT_BIAS, DEFAULT_OUTPUT, DEFAULT_WEIGHT, QConv2d, QLinear


def quantize_model(model: nn.Module, config: QFXConfig | dict | None = None) -> fx.GraphModule:
    """A copy of the float `model` whose layers are QFX layers with the types of `config`.

    Supported: nn.Linear, nn.Conv2d (groups=1, zero padding, dilation 1),
    nn.BatchNorm1d/2d, nn.ReLU, F.relu / torch.relu, adds of two tensors
    (`+`, torch.add), nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d(1),
    nn.Flatten / torch.flatten; one input tensor. Anything else is a ValueError
    naming the node. `model` itself is left unchanged.
    """
    config = QFXConfig.of(config)
    try:
        graph_module = fx.symbolic_trace(model)
    except Exception as err:  # tracing errors come in many types; say which model failed
        raise ValueError(f"quantize_model: torch.fx cannot trace {type(model).__name__}: {err}") from err
    inputs = [node for node in graph_module.graph.nodes if node.op == "placeholder"]
    if len(inputs) != 1:
        raise ValueError(f"quantize_model: models with one input tensor are supported; "
                         f"{type(model).__name__}.forward takes {len(inputs)}")
    rewriter = _Rewriter(graph_module, config, _device_of(model))
    for node in list(graph_module.graph.nodes):
        rewriter.rewrite(node)
    unmatched = set(config.layers) - set(rewriter.names)
    if unmatched:
        raise ValueError(f"quantize_model: config.layers names {sorted(unmatched)}, which match no layer; "
                         f"layers are: {', '.join(rewriter.names)}")
    graph = graph_module.graph
    graph.lint()
    # Rebuilt so that the layers are registered (and listed) in execution order.
    layers = {node.target: graph_module.get_submodule(node.target) for node in graph.nodes if node.op == "call_module"}
    return fx.GraphModule(layers, graph, class_name=type(model).__name__).train(model.training)


@dataclass
class _Call:
    """What a rule sees: the node, its float module (None for a function), its layer's config."""

    node: fx.Node
    module: nn.Module | None
    config: QFXConfig
    is_signed: Callable[[fx.Node], bool]  # whether a rewritten node's values may be negative

    def describe(self) -> str:
        if self.module is not None:
            return f"module '{self.node.target}' ({type(self.module).__name__})"
        return f"node '{self.node.name}' ({_callable_name(self.node)})"

    def unsupported(self, setting: str, supported: str) -> ValueError:
        return ValueError(f"quantize_model: {self.describe()} has {setting}; supported: {supported}")

    def argument(self, position: int, name: str, default=None):
        """An argument of the call, given by position or keyword."""
        if position < len(self.node.args):
            return self.node.args[position]
        return self.node.kwargs.get(name, default)

    def only_input(self) -> tuple[fx.Node]:
        """The one tensor a module is called with."""
        if len(self.node.args) != 1 or self.node.kwargs or not isinstance(self.node.args[0], fx.Node):
            raise self.unsupported("a call with other arguments than one tensor", "one input tensor")
        return (self.node.args[0],)

    def activation(self, default: str, signed: bool | None = None):
        """An output type of `activation_bits`."""
        return self.config.typed(self.config.activation_bits, default, signed)


def _weight_types(config: QFXConfig) -> dict:
    return dict(
        weight=config.typed(config.weight_bits, DEFAULT_WEIGHT),
        bias_type=config.typed(config.bias_bits, DEFAULT_BIAS),
        output=config.typed(config.activation_bits, DEFAULT_OUTPUT),
        khot=config.khot,
        binary=config.binary,
    )


def _with_state_of(float_module: nn.Module, layer: nn.Module) -> nn.Module:
    """`layer` with the weights, biases and statistics of `float_module`."""
    layer.load_state_dict(float_module.state_dict(), strict=False)  # the quantizers keep their own state
    return layer


def _linear(call: _Call):
    m = call.module
    layer = QLinear(m.in_features, m.out_features, bias=m.bias is not None, **_weight_types(call.config))
    return _with_state_of(m, layer), call.only_input()


def _conv2d(call: _Call):
    m = call.module
    if m.groups != 1 or m.padding_mode != "zeros" or isinstance(m.padding, str) or m.dilation != (1, 1):
        raise call.unsupported(
            f"groups={m.groups}, padding={m.padding!r}, padding_mode={m.padding_mode!r}, dilation={m.dilation}",
            "groups=1, padding_mode='zeros' with numeric padding, dilation=1",
        )
    layer = QConv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                    bias=m.bias is not None, **_weight_types(call.config))
    return _with_state_of(m, layer), call.only_input()


def _batchnorm(call: _Call):
    m, config = call.module, call.config
    if not (m.affine and m.track_running_stats and m.momentum is not None):
        raise call.unsupported(
            f"affine={m.affine}, track_running_stats={m.track_running_stats}, momentum={m.momentum}",
            "affine=True, track_running_stats=True and a numeric momentum",
        )
    kind = QBatchNorm2d if isinstance(m, nn.BatchNorm2d) else QBatchNorm1d
    layer = kind(
        m.num_features,
        output=call.activation(DEFAULT_SUM),
        scale_type=config.typed(config.weight_bits, DEFAULT_BN_SCALE),
        shift_type=config.typed(config.bias_bits, DEFAULT_BN_SHIFT),
        khot=config.khot,
        eps=m.eps,
        momentum=m.momentum,
    )
    return _with_state_of(m, layer), call.only_input()


def _relu(call: _Call):
    inputs = call.only_input() if call.module is not None else (call.argument(0, "input"),)
    return QReLU(call.activation(DEFAULT_ACTIVATION)), inputs


def _add(call: _Call):
    a, b = call.argument(0, "input"), call.argument(1, "other")
    if not (isinstance(a, fx.Node) and isinstance(b, fx.Node)):
        raise call.unsupported("a constant operand", "adds of two tensors")
    if call.argument(2, "alpha", 1) != 1 or "out" in call.node.kwargs:
        raise call.unsupported("alpha or out", "a + b")
    signed = call.is_signed(a) or call.is_signed(b)
    return QAdd(call.activation(DEFAULT_SUM, signed)), (a, b)


def _maxpool(call: _Call):
    m = call.module
    if m.return_indices:
        raise call.unsupported("return_indices=True", "return_indices=False")
    return QMaxPool2d(m.kernel_size, m.stride, m.padding, m.dilation, ceil_mode=m.ceil_mode), call.only_input()


def _avgpool(call: _Call):
    m = call.module
    if m.padding not in (0, (0, 0)) or m.ceil_mode or m.divisor_override is not None:
        raise call.unsupported(
            f"padding={m.padding}, ceil_mode={m.ceil_mode}, divisor_override={m.divisor_override}",
            "padding=0, ceil_mode=False, divisor_override=None",
        )
    (x,) = call.only_input()
    return QAvgPool2d(m.kernel_size, m.stride, output=call.activation(DEFAULT_SUM, call.is_signed(x))), (x,)


def _adaptive_avgpool(call: _Call):
    m = call.module
    if m.output_size not in (1, (1, 1)):
        raise call.unsupported(f"output_size={m.output_size}", "output_size=1 (global average pooling)")
    (x,) = call.only_input()
    return QAdaptiveAvgPool2d(1, output=call.activation(DEFAULT_SUM, call.is_signed(x))), (x,)


def _flatten_module(call: _Call):
    return QFlatten(call.module.start_dim, call.module.end_dim), call.only_input()


def _flatten_call(call: _Call):
    start, end = call.argument(1, "start_dim", 0), call.argument(2, "end_dim", -1)
    return QFlatten(start, end), (call.argument(0, "input"),)


_MODULE_RULES = {
    nn.Linear: _linear,
    nn.Conv2d: _conv2d,
    nn.BatchNorm1d: _batchnorm,
    nn.BatchNorm2d: _batchnorm,
    nn.ReLU: _relu,
    nn.MaxPool2d: _maxpool,
    nn.AvgPool2d: _avgpool,
    nn.AdaptiveAvgPool2d: _adaptive_avgpool,
    nn.Flatten: _flatten_module,
}
_FUNCTION_RULES = {
    operator.add: _add,
    torch.add: _add,
    F.relu: _relu,
    torch.relu: _relu,
    torch.flatten: _flatten_call,
}
_METHOD_RULES = {"add": _add, "relu": _relu, "flatten": _flatten_call}
_WEIGHTED = (nn.Linear, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d)

SUPPORTED = (
    "modules " + ", ".join(f"nn.{kind.__name__}" for kind in _MODULE_RULES)
    + "; functions operator.add, torch.add, F.relu, torch.relu, torch.flatten"
    + "; tensor methods " + ", ".join(f".{name}()" for name in _METHOD_RULES)
)


class _Rewriter:
    """Replaces the nodes of a traced model, in graph order, by calls of QFX layers."""

    def __init__(self, graph_module: fx.GraphModule, config: QFXConfig, device: torch.device):
        self.graph_module, self.graph = graph_module, graph_module.graph
        self.config, self.device = config, device
        self.calls = Counter(node.target for node in self.graph.nodes if node.op == "call_module")
        self.calls_rewritten: Counter = Counter()
        self.float_modules = dict(graph_module.named_modules())  # as traced, before any is replaced
        self.signed: dict[fx.Node, bool] = {}
        self.names: list[str] = []

    def rewrite(self, node: fx.Node) -> None:
        if node.op == "output":
            return
        if node.op == "placeholder":
            self._quantize_input(node)
            return
        rule, module, name = self._rule(node)
        layer, inputs = rule(_Call(node, module, self.config.for_layer(name), self.signed.__getitem__))
        self._replace(node, name, layer, inputs)

    def _rule(self, node: fx.Node):
        """(rule, float module or None, layer name) for a node, or a ValueError naming it."""
        if node.op == "call_module":
            module = self.float_modules[node.target]
            rule = _MODULE_RULES.get(type(module))
            if rule is None:
                raise ValueError(f"quantize_model: module '{node.target}' ({type(module).__name__}) "
                                 f"is not supported; supported: {SUPPORTED}")
            if self.calls[node.target] > 1 and isinstance(module, _WEIGHTED):
                raise ValueError(f"quantize_model: module '{node.target}' ({type(module).__name__}) is called "
                                 f"{self.calls[node.target]} times; a layer with weights must be called once")
            call = self.calls_rewritten[node.target]
            self.calls_rewritten[node.target] += 1
            return rule, module, node.target if call == 0 else self._free_name(f"{node.target}_{call}")
        rules = _FUNCTION_RULES if node.op == "call_function" else _METHOD_RULES if node.op == "call_method" else {}
        rule = rules.get(node.target)
        if rule is None:
            raise ValueError(f"quantize_model: node '{node.name}' ({node.op} {_callable_name(node)}) "
                             f"is not supported; supported: {SUPPORTED}")
        return rule, None, self._free_name(node.name)

    def _quantize_input(self, node: fx.Node) -> None:
        name = self._free_name("input")
        config = self.config.for_layer(name)
        width = config.input_bits if config.input_bits is not None else config.activation_bits
        layer = QInput(config.typed(width, DEFAULT_INPUT, config.input_signed))
        self._install(name, layer)
        with self.graph.inserting_after(node):
            quantized = self.graph.call_module(name, (node,))
        node.replace_all_uses_with(quantized, delete_user_cb=lambda user: user is not quantized)
        self.signed[quantized] = config.input_signed

    def _replace(self, node: fx.Node, name: str, layer: nn.Module, inputs: tuple[fx.Node, ...]) -> None:
        self._install(name, layer)
        with self.graph.inserting_after(node):
            call = self.graph.call_module(name, tuple(inputs))
        node.replace_all_uses_with(call)
        self.graph.erase_node(node)
        quantizer = getattr(layer, "output_quantizer", None)
        # A layer without an output quantizer (max pooling, flatten) moves values: its input's sign.
        self.signed[call] = quantizer.signed if quantizer is not None else any(self.signed[x] for x in inputs)

    def _install(self, name: str, layer: nn.Module) -> None:
        self.graph_module.add_submodule(name, layer.to(self.device))
        self.names.append(name)

    def _free_name(self, base: str) -> str:
        """`base`, or `base_1`, `base_2`...: the first name (dotted or not) the model does not use yet."""
        name, k = base, 0
        while self._taken(name):
            k += 1
            name = f"{base}_{k}"
        return name

    def _taken(self, name: str) -> bool:
        parent, _, leaf = name.rpartition(".")
        try:
            return hasattr(self.graph_module.get_submodule(parent), leaf)
        except AttributeError:
            return False


def _callable_name(node: fx.Node) -> str:
    if node.op == "call_method":
        return f".{node.target}()"
    if isinstance(node.target, str):
        return node.target
    module = getattr(node.target, "__module__", None)
    name = getattr(node.target, "__name__", repr(node.target))
    return f"{module}.{name}" if module else name


def _device_of(model: nn.Module) -> torch.device:
    tensor = next(iter(model.parameters()), None)
    if tensor is None:
        tensor = next(iter(model.buffers()), None)
    return tensor.device if tensor is not None else torch.device("cpu")
