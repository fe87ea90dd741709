"""The rewrite rules of `quantize_model`: one small function per float module or function.

A rule gets a `Call` (the graph node, its float module if any, the layer's
config) and returns the QFX layer to call instead and the graph nodes to call it
with (rules for layers with weights: `rules_weighted`).
"""

from __future__ import annotations

import operator

import torch
import torch.nn.functional as F
from torch import fx, nn

from fxhls.qfx.adaptive_pool import QAdaptiveAvgPool2dTiled
from fxhls.qfx.call import Call
from fxhls.qfx.elementwise import (
    DEFAULT_ACTIVATION,
    DEFAULT_SUM,
    QAdaptiveAvgPool2d,
    QAdd,
    QAvgPool2d,
    QFlatten,
    QMaxPool2d,
    QReLU,
)
from fxhls.qfx.activations import (
    DEFAULT_POSITIVE,
    DEFAULT_SIGNED_UNIT,
    DEFAULT_UNIT,
    QELU,
    QExp,
    QHardSigmoid,
    QSELU,
    QSigmoid,
    QSoftplus,
    QTanh,
)
from fxhls.qfx.pools1d import QMean
from fxhls.qfx.relu_variants import QLeakyReLU, QReLU6
from fxhls.qfx.reshape import QConcat, QReshape, QScale, QSqueeze, QUnsqueeze
from fxhls.qfx import rules_layers
from fxhls.qfx.rules_weighted import WEIGHTED_RULES


def _relu(call: Call):
    return QReLU(call.activation(DEFAULT_ACTIVATION)), call.one_tensor()


def _add(call: Call):
    a, b = call.argument(0, "input"), call.argument(1, "other")
    if not (isinstance(a, fx.Node) and isinstance(b, fx.Node)):
        raise call.unsupported("a constant operand", "adds of two tensors")
    if call.argument(2, "alpha", 1) != 1 or "out" in call.node.kwargs:
        raise call.unsupported("alpha or out", "a + b")
    signed = call.is_signed(a) or call.is_signed(b)
    return QAdd(call.activation(DEFAULT_SUM, signed)), (a, b)


_maxpool, _maxpool_call = rules_layers.maxpool_rules(QMaxPool2d)


def _avgpool_layer(call: Call, x: fx.Node, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """QAvgPool2d for nn.AvgPool2d / F.avg_pool2d: zero padding counted in the divisor
    (count_include_pad=True, torch's default) is a zero Pad and then an average over the whole
    window; without it each window near the border has its own divisor, which is refused."""
    padded = nn.modules.utils._pair(padding) != (0, 0)
    if ceil_mode or divisor_override is not None or padded and not count_include_pad:
        raise call.unsupported(
            f"padding={padding}, ceil_mode={ceil_mode}, count_include_pad={count_include_pad}, "
            f"divisor_override={divisor_override}",
            "ceil_mode=False, divisor_override=None, and count_include_pad=True where padding is not 0 "
            "(one divisor: the window's size)")
    output = call.activation(DEFAULT_SUM, call.is_signed(x))
    return QAvgPool2d(kernel, stride, output=output, padding=padding), (x,)


def _avgpool(call: Call):
    m = call.module
    (x,) = call.only_input()
    return _avgpool_layer(call, x, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad,
                          m.divisor_override)


def _adaptive_avgpool(call: Call):
    (x,) = call.only_input()
    return _adaptive_layer(call, call.module.output_size, x), (x,)


def _adaptive_layer(call: Call, size, x: fx.Node):
    """Global average pooling for output size 1, else pooling over windows that tile the input."""
    output = call.activation(DEFAULT_SUM, call.is_signed(x))
    if size in (1, (1, 1), [1, 1]):
        return QAdaptiveAvgPool2d(1, output=output)
    sizes = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
    if len(sizes) != 2 or any(not (k is None or isinstance(k, int) and not isinstance(k, bool) and k >= 1)
                              for k in sizes):
        raise call.unsupported(f"output_size={size!r}", "an output size of positive integers (or None)")
    return QAdaptiveAvgPool2dTiled(sizes, output=output)


def _avgpool_call(call: Call):
    return _avgpool_layer(call, call.argument(0, "input"), call.argument(1, "kernel_size"), call.argument(2, "stride"),
                          call.argument(3, "padding", 0), call.argument(4, "ceil_mode", False),
                          call.argument(5, "count_include_pad", True), call.argument(6, "divisor_override"))


def _adaptive_avgpool_call(call: Call):
    x = call.argument(0, "input")
    return _adaptive_layer(call, call.argument(1, "output_size"), x), (x,)


def _mean(call: Call):
    """x.mean((2, 3)) or torch.mean(x, (-2, -1)) of an image batch (global average pooling);
    x.mean(-1), x.mean(2), x.mean(3) over one axis after the channels (`QMean`)."""
    x, dims = call.argument(0, "input"), call.argument(1, "dim")
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    keepdim = bool(call.argument(2, "keepdim", False))
    output = call.activation(DEFAULT_SUM, call.is_signed(x))
    supported = ("the mean over the last two axes of an (N, C, H, W) tensor, or over one axis after the "
                 "channels of an (N, C, L) or (N, C, H, W) one")
    if call.argument(3, "dtype") is not None or not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise call.unsupported(f"dim={dims}, dtype={call.argument(3, 'dtype')}", supported)
    if len(dims) == 1 and dims[0] not in (0, 1, -4, -3):  # the axes of a sample's values; its rank is seen at run time
        return QMean(dims[0], output, keepdim), (x,)
    if sorted(d % 4 for d in dims) != [2, 3]:
        raise call.unsupported(f"dim={dims}", supported)
    return QAdaptiveAvgPool2d(1, output=output, keepdim=keepdim), (x,)


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


def _squeeze(call: Call):
    """x.squeeze(), x.squeeze(dim), torch.squeeze(x, dim)."""
    dim = call.argument(1, "dim")
    if not (dim is None or isinstance(dim, int) or isinstance(dim, (tuple, list)) and
            all(isinstance(d, int) for d in dim)):
        raise call.unsupported(f"dim={dim!r}", "squeeze of every axis of size 1, of an axis or of a tuple of axes")
    return QSqueeze(tuple(dim) if isinstance(dim, list) else dim), (call.argument(0, "input"),)


def _unsqueeze(call: Call):
    dim = call.argument(1, "dim")
    if not isinstance(dim, int):
        raise call.unsupported(f"dim={dim!r}", "unsqueeze at an axis given as a number")
    return QUnsqueeze(dim), (call.argument(0, "input"),)


def _scale(call: Call):
    """x * c, c * x or x / d with a constant c (d): x times the constant quantized like a weight."""
    a, b = call.argument(0, "input"), call.argument(1, "other")
    x, c = (a, b) if isinstance(a, fx.Node) else (b, a)
    if isinstance(c, fx.Node) or not isinstance(x, fx.Node) or not isinstance(c, (int, float)):
        raise call.unsupported("two tensor operands", "multiplication or division by a number")
    if call.node.target in (operator.truediv, operator.itruediv, torch.div, "div", "div_"):
        if c == 0 or call.argument(2, "rounding_mode") is not None:
            raise call.unsupported("a division by 0 or with a rounding_mode", "x / d with d != 0")
        c = 1.0 / c
    signed = call.is_signed(x) or c < 0
    return QScale(c, call.constant_type(c), call.activation(DEFAULT_SUM, signed)), (x,)


def _concat(call: Call):
    tensors, dim = call.argument(0, "tensors"), call.argument(1, "dim", 0)
    if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, fx.Node) for t in tensors):
        raise call.unsupported("an argument that is not a list of tensors", "torch.cat of a list of tensors")
    if dim == 0:
        raise call.unsupported("dim=0 (the batch axis)", "concatenation along a sample axis (dim != 0)")
    signed = any(call.is_signed(t) for t in tensors)
    return QConcat(dim, call.activation(DEFAULT_SUM, signed)), tuple(tensors)


def _relu6(call: Call):
    return QReLU6(call.activation(DEFAULT_ACTIVATION)), call.one_tensor()


def _leaky_relu(call: Call):
    if call.module is not None:
        slope = call.module.negative_slope
    else:
        slope = call.argument(1, "negative_slope", 0.01)
    if not isinstance(slope, (int, float)) or not 0 <= slope <= 1:
        raise call.unsupported(f"negative_slope={slope!r}", "a number between 0 and 1")
    (x,) = call.one_tensor()
    layer = QLeakyReLU(slope, call.constant_type(slope), call.activation(DEFAULT_SUM, call.is_signed(x)))
    return layer, (x,)


def _activation(layer, default: str):
    """The rule of an activation whose parameters are the QFX layer's defaults: `layer` (a
    QFX activation class), its output of `activation_bits` starting from `default`."""

    def rule(call: Call):
        return layer(output=call.activation(default)), call.one_tensor()

    return rule


def _elu(call: Call):
    alpha = call.module.alpha if call.module is not None else call.argument(1, "alpha", 1.0)
    if not isinstance(alpha, (int, float)):
        raise call.unsupported(f"alpha={alpha!r}", "a number")
    return QELU(alpha, call.activation(DEFAULT_SUM, True)), call.one_tensor()


def _softplus(call: Call):
    """Softplus with beta 1 and torch's threshold 20 (above it torch returns x, QSoftplus
    log(1 + e^x): less than e^-20 apart)."""
    if call.module is not None:
        beta, threshold = call.module.beta, call.module.threshold
    else:
        beta, threshold = call.argument(1, "beta", 1.0), call.argument(2, "threshold", 20.0)
    if beta != 1 or threshold != 20:
        raise call.unsupported(f"beta={beta!r}, threshold={threshold!r}", "beta=1, threshold=20 (the defaults)")
    return QSoftplus(call.activation(DEFAULT_POSITIVE)), call.one_tensor()


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
    **WEIGHTED_RULES,
    nn.ReLU6: _relu6,
    nn.LeakyReLU: _leaky_relu,
    nn.ReLU: _relu,
    nn.MaxPool2d: _maxpool,
    nn.AvgPool2d: _avgpool,
    nn.AdaptiveAvgPool2d: _adaptive_avgpool,
    nn.Flatten: _flatten_module,
    nn.Sigmoid: _activation(QSigmoid, DEFAULT_UNIT),
    nn.Tanh: _activation(QTanh, DEFAULT_SIGNED_UNIT),
    nn.Hardsigmoid: _activation(QHardSigmoid, DEFAULT_UNIT),
    nn.ELU: _elu,
    nn.SELU: _activation(QSELU, DEFAULT_SUM),
    nn.Softplus: _softplus,
    **rules_layers.MODULE_RULES,
}
FUNCTION_RULES = {
    operator.add: _add,
    operator.iadd: _add,  # y += z: its later readers read the sum (`tracing`)
    torch.add: _add,
    F.relu: _relu,
    torch.relu: _relu,
    torch.flatten: _flatten_call,
    torch.reshape: _reshape,
    torch.squeeze: _squeeze,
    torch.unsqueeze: _unsqueeze,
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
    operator.imul: _scale,
    torch.mul: _scale,
    operator.truediv: _scale,
    operator.itruediv: _scale,
    torch.div: _scale,
    torch.sigmoid: _activation(QSigmoid, DEFAULT_UNIT),
    F.sigmoid: _activation(QSigmoid, DEFAULT_UNIT),
    torch.tanh: _activation(QTanh, DEFAULT_SIGNED_UNIT),
    F.tanh: _activation(QTanh, DEFAULT_SIGNED_UNIT),
    F.hardsigmoid: _activation(QHardSigmoid, DEFAULT_UNIT),
    F.elu: _elu,
    torch.selu: _activation(QSELU, DEFAULT_SUM),
    F.selu: _activation(QSELU, DEFAULT_SUM),
    F.softplus: _softplus,
    torch.exp: _activation(QExp, DEFAULT_POSITIVE),
    **rules_layers.FUNCTION_RULES,
}
METHOD_RULES = {"add": _add, "add_": _add, "relu": _relu, "relu_": _relu, "flatten": _flatten_call, "view": _reshape,
                "reshape": _reshape, "mean": _mean, "mul": _scale, "mul_": _scale, "div": _scale, "div_": _scale,
                "squeeze": _squeeze, "unsqueeze": _unsqueeze, "contiguous": _dropped,
                "sigmoid": _activation(QSigmoid, DEFAULT_UNIT), "tanh": _activation(QTanh, DEFAULT_SIGNED_UNIT),
                "exp": _activation(QExp, DEFAULT_POSITIVE), **rules_layers.METHOD_RULES}

SUPPORTED = (
    "modules " + ", ".join(f"nn.{kind.__name__}" for kind in MODULE_RULES)
    + "; functions operator.add/mul/truediv (and +=, *=, /=), torch.add/mul/div/relu/flatten/reshape/squeeze/unsqueeze/mean, F.relu, "
    + "F.relu6, F.leaky_relu, torch.cat, F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.dropout, "
    + "torch.sigmoid/tanh/selu/exp, F.sigmoid, F.tanh, F.hardsigmoid, F.elu, F.selu, F.softplus, "
    + rules_layers.FUNCTIONS
    + "; tensor methods " + ", ".join(f".{name}()" for name in METHOD_RULES)
    + "; sizes from .size(), .dim() and .shape"
)
