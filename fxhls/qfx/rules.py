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

from fxhls.fixed import FixedType
from fxhls.fixed.exact import exact_type
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
from fxhls.qfx.relu_variants import QLeakyReLU, QReLU6
from fxhls.qfx.reshape import QConcat, QReshape, QScale
from fxhls.qfx.tracing import describe
from fxhls.qfx.weighted import DEFAULT_BIAS, DEFAULT_OUTPUT, DEFAULT_WEIGHT, QConv1d, QConv2d, QLinear


@dataclass
class Call:
    """What a rule sees: the node, its float module (None for a function), its layer's config.
    A rule returns (QFX layer, input nodes), or (None, (x,)) for a node that is dropped."""

    node: fx.Node
    module: nn.Module | None
    config: QFXConfig
    is_signed: Callable[[fx.Node], bool]  # whether a rewritten node's values may be negative

    def describe(self) -> str:
        return describe(self.node, self.module)

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


def _conv(call: Call):
    """nn.Conv2d and nn.Conv1d, grouped (depthwise) or not."""
    m = call.module
    padding = _numeric_padding(m)
    if m.padding_mode != "zeros" or padding is None or any(d != 1 for d in m.dilation):
        raise call.unsupported(
            f"padding={m.padding!r}, padding_mode={m.padding_mode!r}, dilation={m.dilation}",
            "padding_mode='zeros' with numeric or symmetric 'same' padding, dilation=1",
        )
    kind = QConv1d if isinstance(m, nn.Conv1d) else QConv2d
    layer = kind(m.in_channels, m.out_channels, m.kernel_size, m.stride, padding,
                 bias=m.bias is not None, groups=m.groups, **_weight_types(call.config))
    return _with_state_of(m, layer), call.only_input()


def _numeric_padding(m: nn.Conv2d | nn.Conv1d) -> tuple[int, ...] | None:
    """The padding of each side; 'valid' is 0, 'same' (stride 1) is (k - 1) / 2 where k is odd
    (symmetric), None where it is not symmetric."""
    if m.padding == "valid":
        return (0,) * len(m.kernel_size)
    if m.padding == "same":
        if any(k % 2 == 0 for k in m.kernel_size):
            return None
        return tuple((k - 1) // 2 for k in m.kernel_size)
    return m.padding


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
    return QReLU(call.activation(DEFAULT_ACTIVATION)), _one_tensor(call)


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


def _maxpool_call(call: Call):
    if call.argument(6, "return_indices", False):
        raise call.unsupported("return_indices=True", "return_indices=False")
    kernel = call.argument(1, "kernel_size")
    layer = QMaxPool2d(kernel, call.argument(2, "stride") or kernel, call.argument(3, "padding", 0),
                       call.argument(4, "dilation", 1), ceil_mode=call.argument(5, "ceil_mode", False))
    return layer, (call.argument(0, "input"),)


def _avgpool_call(call: Call):
    kernel = call.argument(1, "kernel_size")
    settings = (call.argument(3, "padding", 0), call.argument(4, "ceil_mode", False),
                call.argument(6, "divisor_override"))
    if settings[0] not in (0, (0, 0)) or settings[1] or settings[2] is not None:
        raise call.unsupported("padding, ceil_mode or divisor_override", "padding=0, ceil_mode=False")
    x = call.argument(0, "input")
    return QAvgPool2d(kernel, call.argument(2, "stride"), output=call.activation(DEFAULT_SUM, call.is_signed(x))), (x,)


def _adaptive_avgpool_call(call: Call):
    size = call.argument(1, "output_size")
    if size not in (1, (1, 1)):
        raise call.unsupported(f"output_size={size}", "output_size=1 (global average pooling)")
    x = call.argument(0, "input")
    return QAdaptiveAvgPool2d(1, output=call.activation(DEFAULT_SUM, call.is_signed(x))), (x,)


def _mean(call: Call):
    """x.mean((2, 3)) or torch.mean(x, (-2, -1)) of an image batch: global average pooling."""
    x, dims = call.argument(0, "input"), call.argument(1, "dim")
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if sorted(d % 4 for d in dims if isinstance(d, int)) != [2, 3] or call.argument(3, "dtype") is not None:
        raise call.unsupported(f"dim={dims}", "the mean over the last two axes of an (N, C, H, W) tensor")
    keepdim = bool(call.argument(2, "keepdim", False))
    layer = QAdaptiveAvgPool2d(1, output=call.activation(DEFAULT_SUM, call.is_signed(x)), keepdim=keepdim)
    return layer, (x,)


def _dropped(call: Call):
    """Identity, and dropout (a no-op at inference): no layer, the input goes on."""
    return None, (call.argument(0, "input"),)


def _reshape(call: Call):
    """x.view(...), x.reshape(...), torch.reshape(x, shape): the sizes as the model computes them."""
    x, *shape = call.node.args
    if call.node.kwargs:
        raise call.unsupported("keyword arguments", "view/reshape with positional sizes")
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = list(shape[0])
    return QReshape(), (x, *shape)


def _scale(call: Call):
    """x * c, c * x or x / d with a constant c (d): x times the constant quantized like a weight."""
    a, b = call.argument(0, "input"), call.argument(1, "other")
    x, c = (a, b) if isinstance(a, fx.Node) else (b, a)
    if isinstance(c, fx.Node) or not isinstance(x, fx.Node) or not isinstance(c, (int, float)):
        raise call.unsupported("two tensor operands", "multiplication or division by a number")
    if call.node.target in (operator.truediv, torch.div, "div"):
        if c == 0 or call.argument(2, "rounding_mode") is not None:
            raise call.unsupported("a division by 0 or with a rounding_mode", "x / d with d != 0")
        c = 1.0 / c
    signed = call.is_signed(x) or c < 0
    return QScale(c, _constant_type(call.config, c), call.activation(DEFAULT_SUM, signed)), (x,)


def _concat(call: Call):
    tensors, dim = call.argument(0, "tensors"), call.argument(1, "dim", 0)
    if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, fx.Node) for t in tensors):
        raise call.unsupported("an argument that is not a list of tensors", "torch.cat of a list of tensors")
    if dim == 0:
        raise call.unsupported("dim=0 (the batch axis)", "concatenation along a sample axis (dim != 0)")
    signed = any(call.is_signed(t) for t in tensors)
    return QConcat(dim, call.activation(DEFAULT_SUM, signed)), tuple(tensors)


def _relu6(call: Call):
    return QReLU6(call.activation(DEFAULT_ACTIVATION)), _one_tensor(call)


def _leaky_relu(call: Call):
    if call.module is not None:
        slope = call.module.negative_slope
    else:
        slope = call.argument(1, "negative_slope", 0.01)
    if not isinstance(slope, (int, float)) or not 0 <= slope <= 1:
        raise call.unsupported(f"negative_slope={slope!r}", "a number between 0 and 1")
    (x,) = _one_tensor(call)
    layer = QLeakyReLU(slope, _constant_type(call.config, slope), call.activation(DEFAULT_SUM, call.is_signed(x)))
    return layer, (x,)


def _one_tensor(call: Call) -> tuple[fx.Node]:
    """A module's one input, or a function's first argument."""
    return call.only_input() if call.module is not None else (call.argument(0, "input"),)


def _constant_type(config: QFXConfig, value: float) -> FixedType:
    """`weight_bits` bits, the binary point where `value` fits (it is exact if it fits the width)."""
    fit = exact_type([value], signed=True)
    return FixedType(max(config.weight_bits, 2), fit.int_bits, True, config.rounding, config.overflow)


def _flatten_module(call: Call):
    return QFlatten(call.module.start_dim, call.module.end_dim), call.only_input()


def _flatten_call(call: Call):
    start, end = call.argument(1, "start_dim", 0), call.argument(2, "end_dim", -1)
    return QFlatten(start, end), (call.argument(0, "input"),)


# The rules, by exact float module type (a subclass may compute something else), function, or method.
MODULE_RULES = {
    nn.Identity: _dropped,
    nn.Dropout: _dropped,
    nn.Dropout1d: _dropped,
    nn.Dropout2d: _dropped,
    nn.Linear: _linear,
    nn.ReLU6: _relu6,
    nn.LeakyReLU: _leaky_relu,
    nn.Conv2d: _conv,
    nn.Conv1d: _conv,
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
    torch.reshape: _reshape,
    F.max_pool2d: _maxpool_call,
    F.avg_pool2d: _avgpool_call,
    F.adaptive_avg_pool2d: _adaptive_avgpool_call,
    torch.mean: _mean,
    F.relu6: _relu6,
    F.leaky_relu: _leaky_relu,
    torch.cat: _concat,
    torch.concat: _concat,
    F.dropout: _dropped,
    F.dropout1d: _dropped,
    F.dropout2d: _dropped,
    operator.mul: _scale,
    torch.mul: _scale,
    operator.truediv: _scale,
    torch.div: _scale,
}
METHOD_RULES = {"add": _add, "relu": _relu, "flatten": _flatten_call, "view": _reshape, "reshape": _reshape,
                "mean": _mean, "mul": _scale, "div": _scale, "contiguous": _dropped}
# Layers with weights: one QFX layer each, so they cannot be shared between calls.
WEIGHTED = (nn.Linear, nn.Conv2d, nn.Conv1d, nn.BatchNorm1d, nn.BatchNorm2d)

SUPPORTED = (
    "modules " + ", ".join(f"nn.{kind.__name__}" for kind in MODULE_RULES)
    + "; functions operator.add/mul/truediv, torch.add/mul/div/relu/flatten/reshape/mean, F.relu, "
    + "F.relu6, F.leaky_relu, torch.cat, F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.dropout"
    + "; tensor methods " + ", ".join(f".{name}()" for name in METHOD_RULES)
    + "; sizes from .size(), .dim() and .shape"
)
