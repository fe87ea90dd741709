"""Rules of `quantize_model` for the class outputs (softmax, argmax), 1-D pooling, PReLU,
nearest upsampling and zero padding (the other rules: `rules`, `rules_weighted`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fxhls.qfx.activations import DEFAULT_UNIT
from fxhls.qfx.call import Call
from fxhls.qfx.elementwise import DEFAULT_SUM
from fxhls.qfx.pools1d import QAdaptiveAvgPool1d, QAvgPool1d, QMaxPool1d
from fxhls.qfx.relu_variants import QPReLU
from fxhls.qfx.resize import QPad, QUpsample
from fxhls.qfx.softmax import QArgMax, QSoftmax

CLASS_AXIS = "the class axis (dim=1, or -1 on (N, C))"


def _softmax(call: Call):
    dim = call.module.dim if call.module is not None else call.argument(1, "dim")
    if isinstance(dim, bool) or dim not in (1, -1):
        raise call.unsupported(f"dim={dim!r}", CLASS_AXIS)
    if call.node.kwargs.get("dtype") is not None:
        raise call.unsupported("a dtype", "softmax in the input's precision (no dtype)")
    return QSoftmax(dim, output=call.activation(DEFAULT_UNIT, False)), call.one_tensor()


def _argmax(call: Call):
    dim, keepdim = call.argument(1, "dim"), call.argument(2, "keepdim", False)
    if isinstance(dim, bool) or dim not in (1, -1):
        raise call.unsupported(f"dim={dim!r}", CLASS_AXIS)
    return QArgMax(dim, bool(keepdim)), (call.argument(0, "input"),)


def _no_padding(call: Call, padding, ceil_mode) -> None:
    if padding not in (0, (0,)) or ceil_mode:
        raise call.unsupported(f"padding={padding}, ceil_mode={ceil_mode}", "padding=0, ceil_mode=False")


def _maxpool1d(call: Call):
    m = call.module
    if m.return_indices:
        raise call.unsupported("return_indices=True", "return_indices=False")
    return QMaxPool1d(m.kernel_size, m.stride, m.padding, m.dilation, ceil_mode=m.ceil_mode), call.only_input()


def _maxpool1d_call(call: Call):
    if call.argument(6, "return_indices", False):
        raise call.unsupported("return_indices=True", "return_indices=False")
    kernel = call.argument(1, "kernel_size")
    layer = QMaxPool1d(kernel, call.argument(2, "stride") or kernel, call.argument(3, "padding", 0),
                       call.argument(4, "dilation", 1), ceil_mode=call.argument(5, "ceil_mode", False))
    return layer, (call.argument(0, "input"),)


def _avgpool1d(call: Call):
    m = call.module
    _no_padding(call, m.padding, m.ceil_mode)
    (x,) = call.only_input()
    return QAvgPool1d(m.kernel_size, m.stride, output=call.activation(DEFAULT_SUM, call.is_signed(x))), (x,)


def _avgpool1d_call(call: Call):
    _no_padding(call, call.argument(3, "padding", 0), call.argument(4, "ceil_mode", False))
    x = call.argument(0, "input")
    layer = QAvgPool1d(call.argument(1, "kernel_size"), call.argument(2, "stride"),
                       output=call.activation(DEFAULT_SUM, call.is_signed(x)))
    return layer, (x,)


def _adaptive_avgpool1d(call: Call):
    size = call.module.output_size if call.module is not None else call.argument(1, "output_size")
    if size not in (1, (1,)):
        raise call.unsupported(f"output_size={size}", "output_size=1 (global average pooling)")
    x = call.one_tensor()[0]
    return QAdaptiveAvgPool1d(1, output=call.activation(DEFAULT_SUM, call.is_signed(x))), (x,)


def _prelu(call: Call):
    weight = call.module.weight.detach()
    (x,) = call.only_input()
    layer = QPReLU(weight, call.constant_type(weight.cpu()), call.activation(DEFAULT_SUM, call.is_signed(x)))
    return layer, (x,)


def _upsample(call: Call):
    """nn.Upsample / nn.UpsamplingNearest2d / F.interpolate in mode nearest by integer factors."""
    if call.module is not None:
        m = call.module
        size, scale, mode = m.size, m.scale_factor, m.mode
        extra = m.align_corners
    else:
        size, scale = call.argument(1, "size"), call.argument(2, "scale_factor")
        mode, extra = call.argument(3, "mode", "nearest"), call.argument(6, "antialias", False)
    if mode != "nearest" or size is not None or scale is None or extra:
        raise call.unsupported(f"mode={mode!r}, size={size!r}, scale_factor={scale!r}",
                               "mode='nearest' with integer scale_factor (no size)")
    factors = scale if isinstance(scale, (tuple, list)) else (scale,)
    if any(isinstance(f, bool) or not isinstance(f, (int, float)) or int(f) != f or f < 1 for f in factors):
        raise call.unsupported(f"scale_factor={scale!r}", "integer scale factors of at least 1")
    return QUpsample(scale), call.one_tensor()


def _zero_pad(call: Call):
    """nn.ZeroPad1d/2d, nn.ConstantPad1d/2d with value 0, F.pad in mode constant with value 0."""
    if call.module is not None:
        padding, mode, value = call.module.padding, "constant", getattr(call.module, "value", 0)
    else:
        padding, mode, value = call.argument(1, "pad"), call.argument(2, "mode", "constant"), call.argument(3, "value")
    if mode != "constant" or value not in (None, 0):
        raise call.unsupported(f"mode={mode!r}, value={value!r}", "zero padding (mode 'constant', value 0)")
    if not isinstance(padding, (tuple, list)) or any(not isinstance(p, int) or p < 0 for p in padding):
        raise call.unsupported(f"padding={padding!r}", "non-negative integer pads")
    return QPad(padding), call.one_tensor()


MODULE_RULES = {
    nn.Softmax: _softmax,
    nn.MaxPool1d: _maxpool1d,
    nn.AvgPool1d: _avgpool1d,
    nn.AdaptiveAvgPool1d: _adaptive_avgpool1d,
    nn.PReLU: _prelu,
    nn.Upsample: _upsample,
    nn.UpsamplingNearest2d: _upsample,
    nn.ZeroPad1d: _zero_pad,
    nn.ZeroPad2d: _zero_pad,
    nn.ConstantPad1d: _zero_pad,
    nn.ConstantPad2d: _zero_pad,
}
FUNCTION_RULES = {
    F.softmax: _softmax,
    torch.softmax: _softmax,
    torch.argmax: _argmax,
    F.max_pool1d: _maxpool1d_call,
    F.avg_pool1d: _avgpool1d_call,
    F.adaptive_avg_pool1d: _adaptive_avgpool1d,
    F.interpolate: _upsample,
    F.pad: _zero_pad,
}
METHOD_RULES = {"softmax": _softmax, "argmax": _argmax}
FUNCTIONS = ("F.softmax, torch.softmax, torch.argmax, F.max_pool1d, F.avg_pool1d, F.adaptive_avg_pool1d, "
             "F.interpolate (nearest), F.pad (zeros)")
