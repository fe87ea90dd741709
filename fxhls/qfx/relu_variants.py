"""ReLU6, LeakyReLU and PReLU in fixed point: the exact function of the input, quantized to `output`.

LeakyReLU's slope is a constant, PReLU's a learned parameter (one, or one per channel),
each quantized like a weight (`slope_type`), so x * slope is exact. Both export as ONNX
PRelu, which the IR's PRelu op computes exactly.
"""

from __future__ import annotations

import torch
from torch import nn

from fxhls.fixed import FixedType, result_type
from fxhls.qfx.elementwise import DEFAULT_ACTIVATION, DEFAULT_SUM, _Quantized
from fxhls.qfx.quantizer import FixedQuantizer, errors_name
from fxhls.qfx.typed import exact_dtype, type_of

RELU6_CEILING = 6.0


class QReLU6(_Quantized):
    """min(max(x, 0), 6), quantized to `output` (unsigned by default)."""

    def __init__(self, output=DEFAULT_ACTIVATION):
        super().__init__()
        self._setup_output(output)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._finish(x.clamp(0.0, RELU6_CEILING), x.dtype)


class _Slope(_Quantized):
    """x where x >= 0, else x times `quantized_slope()` (broadcast over the channel axis),
    the product exact; quantized to `output`."""

    def _setup_slope(self, slope_type, output) -> None:
        with errors_name(self):
            self.slope_quantizer = FixedQuantizer(slope_type)
        self._setup_output(output)

    @property
    def slope_type(self) -> FixedType:
        return self.slope_quantizer.type

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_type = type_of(x)
        exact = result_type("mul", x_type, self.slope_type) if x_type is not None else None
        dtype = exact_dtype(exact, x.dtype)
        wide = x.to(dtype)
        slope = self.quantized_slope().to(dtype)
        if slope.numel() > 1:  # one per channel (axis 1)
            slope = slope.view(-1, *[1] * (x.dim() - 2))
        return self._finish(torch.where(wide >= 0, wide, wide * slope), x.dtype)


class QLeakyReLU(_Slope):
    """x where x >= 0, else x times the slope quantized to `slope_type`; quantized to `output`."""

    def __init__(self, negative_slope: float, slope_type, output=DEFAULT_SUM):
        super().__init__()
        self.register_buffer("negative_slope", torch.tensor(float(negative_slope)))
        self._setup_slope(slope_type, output)

    def quantized_slope(self) -> torch.Tensor:
        return self.slope_quantizer(self.negative_slope)


class QPReLU(_Slope):
    """PReLU: x where x >= 0, else x times its slope (`weight`: one value, or one per channel,
    learned), quantized to `slope_type`; quantized to `output`."""

    def __init__(self, weight, slope_type, output=DEFAULT_SUM):
        super().__init__()
        self.weight = nn.Parameter(torch.as_tensor(weight, dtype=torch.float32).detach().reshape(-1).clone())
        self._setup_slope(slope_type, output)

    def quantized_slope(self) -> torch.Tensor:
        return self.slope_quantizer(self.weight)
