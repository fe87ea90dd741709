"""The rewrite rules of `quantize_model`: one small function per float module or function.

A rule gets a `Call` (the graph node, its float module if any, the layer's
config) and returns the QFX layer to call instead, with the float weights and
statistics copied in, and the graph nodes to call it with.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import fx, nn

from fxhls.qfx.batchnorm import QBatchNorm1d, QBatchNorm2d
from fxhls.qfx.config import QFXConfig
from fxhls.qfx.elementwise import (
    DEFAULT_ACTIVATION,
    DEFAULT_BN_SCALE,
    DEFAULT_BN_SHIFT,
    DEFAULT_SUM,
    QAdaptiveAvgPool2d,
    QAdd,
    QAvgPool2d,
    QFlatten,
    QMaxPool2d,
    QReLU,
)
from fxhls.qfx.weighted import DEFAULT_BIAS, DEFAULT_OUTPUT, DEFAULT_WEIGHT, QConv2d, QLinear


@dataclass
class Call:
    """What a rule sees: the node, its float module (None for a function), its layer's config."""

    node: fx.Node
    module: nn.Module | None
    config: QFXConfig
    is_signed: Callable[[fx.Node], bool]  # whether a rewritten node's values may be negative

    def describe(self) -> str:
        if self.module is not None:
            return f"module '{self.node.target}' ({type(self.module).__name__})"
        return f"node '{self.node.name}' ({callable_name(self.node)})"

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
        binary_scale=config.binary_scale,
    )


def _with_state_of(float_module: nn.Module, layer: nn.Module) -> nn.Module:
    """`layer` with the weights, biases and statistics of `float_module`."""
    layer.load_state_dict(float_module.state_dict(), strict=False)  # the quantizers keep their own state
    return layer


def _linear(call: Call):
    m = call.module
    layer = QLinear(m.in_features, m.out_features, bias=m.bias is not None, **_weight_types(call.config))
    return _with_state_of(m, layer), call.only_input()


def _conv2d(call: Call):
    m = call.module
    if m.groups != 1 or m.padding_mode != "zeros" or isinstance(m.padding, str) or m.dilation != (1, 1):
        raise call.unsupported(
            f"groups={m.groups}, padding={m.padding!r}, padding_mode={m.padding_mode!r}, dilation={m.dilation}",
            "groups=1, padding_mode='zeros' with numeric padding, dilation=1",
        )
    layer = QConv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                    bias=m.bias is not None, **_weight_types(call.config))
    return _with_state_of(m, layer), call.only_input()


def _batchnorm(call: Call):
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


def _relu(call: Call):
    inputs = call.only_input() if call.module is not None else (call.argument(0, "input"),)
    return QReLU(call.activation(DEFAULT_ACTIVATION)), inputs


def _add(call: Call):
    a, b = call.argument(0, "input"), call.argument(1, "other")
    if not (isinstance(a, fx.Node) and isinstance(b, fx.Node)):
        raise call.unsupported("a constant operand", "adds of two tensors")
    if call.argument(2, "alpha", 1) != 1 or "out" in call.node.kwargs:
        raise call.unsupported("alpha or out", "a + b")
    signed = call.is_signed(a) or call.is_signed(b)
    return QAdd(call.activation(DEFAULT_SUM, signed)), (a, b)


def _maxpool(call: Call):
    m = call.module
    if m.return_indices:
        raise call.unsupported("return_indices=True", "return_indices=False")
    return QMaxPool2d(m.kernel_size, m.stride, m.padding, m.dilation, ceil_mode=m.ceil_mode), call.only_input()


def _avgpool(call: Call):
    m = call.module
    if m.padding not in (0, (0, 0)) or m.ceil_mode or m.divisor_override is not None:
        raise call.unsupported(
            f"padding={m.padding}, ceil_mode={m.ceil_mode}, divisor_override={m.divisor_override}",
            "padding=0, ceil_mode=False, divisor_override=None",
        )
    (x,) = call.only_input()
    return QAvgPool2d(m.kernel_size, m.stride, output=call.activation(DEFAULT_SUM, call.is_signed(x))), (x,)


def _adaptive_avgpool(call: Call):
    m = call.module
    if m.output_size not in (1, (1, 1)):
        raise call.unsupported(f"output_size={m.output_size}", "output_size=1 (global average pooling)")
    (x,) = call.only_input()
    return QAdaptiveAvgPool2d(1, output=call.activation(DEFAULT_SUM, call.is_signed(x))), (x,)


def _flatten_module(call: Call):
    return QFlatten(call.module.start_dim, call.module.end_dim), call.only_input()


def _flatten_call(call: Call):
    start, end = call.argument(1, "start_dim", 0), call.argument(2, "end_dim", -1)
    return QFlatten(start, end), (call.argument(0, "input"),)


# The rules, by exact float module type (a subclass may compute something else), function, or method.
MODULE_RULES = {
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
FUNCTION_RULES = {
    operator.add: _add,
    torch.add: _add,
    F.relu: _relu,
    torch.relu: _relu,
    torch.flatten: _flatten_call,
}
METHOD_RULES = {"add": _add, "relu": _relu, "flatten": _flatten_call}
# Layers with weights: one QFX layer each, so they cannot be shared between calls.
WEIGHTED = (nn.Linear, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d)

SUPPORTED = (
    "modules " + ", ".join(f"nn.{kind.__name__}" for kind in MODULE_RULES)
    + "; functions operator.add, torch.add, F.relu, torch.relu, torch.flatten"
    + "; tensor methods " + ", ".join(f".{name}()" for name in METHOD_RULES)
)


def callable_name(node: fx.Node) -> str:
    """How an error message names what a function or method node calls."""
    if node.op == "call_method":
        return f".{node.target}()"
    if isinstance(node.target, str):
        return node.target
    module = getattr(node.target, "__module__", None)
    name = getattr(node.target, "__name__", repr(node.target))
    return f"{module}.{name}" if module else name
