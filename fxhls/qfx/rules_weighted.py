"""The rewrite rules of `quantize_model` for layers with weights: Linear, Conv1d/Conv2d, BatchNorm.

Each builds the QFX layer with the float weights, biases and statistics copied in.
"""

from __future__ import annotations

from torch import nn

from fxhls.qfx.batchnorm import QBatchNorm1d, QBatchNorm2d
from fxhls.qfx.call import Call
from fxhls.qfx.config import QFXConfig
from fxhls.qfx.elementwise import DEFAULT_BN_SCALE, DEFAULT_BN_SHIFT, DEFAULT_SUM
from fxhls.qfx.weighted import DEFAULT_BIAS, DEFAULT_OUTPUT, DEFAULT_WEIGHT, QConv1d, QConv2d, QLinear


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


def linear(call: Call):
    m = call.module
    layer = QLinear(m.in_features, m.out_features, bias=m.bias is not None, **_weight_types(call.config))
    return _with_state_of(m, layer), call.only_input()


def conv(call: Call):
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


def batchnorm(call: Call):
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


# Layers with weights: one QFX layer each, so they cannot be shared between calls.
WEIGHTED = (nn.Linear, nn.Conv2d, nn.Conv1d, nn.BatchNorm1d, nn.BatchNorm2d)
WEIGHTED_RULES = {nn.Linear: linear, nn.Conv2d: conv, nn.Conv1d: conv, nn.BatchNorm1d: batchnorm,
                  nn.BatchNorm2d: batchnorm}
