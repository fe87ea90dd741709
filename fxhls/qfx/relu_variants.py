"""ReLU6 and LeakyReLU in fixed point: the exact function of the input, quantized to `output`.

LeakyReLU's slope is a constant quantized like a weight (`slope_type`), so x * slope is exact.
"""

from __future__ import annotations

import torch

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


class QLeakyReLU(_Quantized):
    """x where x >= 0, else x times the slope quantized to `slope_type`; quantized to `output`."""

    def __init__(self, negative_slope: float, slope_type, output=DEFAULT_SUM):
        super().__init__()
        self.register_buffer("negative_slope", torch.tensor(float(negative_slope)))
        with errors_name(self):
            self.slope_quantizer = FixedQuantizer(slope_type)
        self._setup_output(output)

    @property
    def slope_type(self) -> FixedType:
        return self.slope_quantizer.type

    def quantized_slope(self) -> torch.Tensor:
        return self.slope_quantizer(self.negative_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_type = type_of(x)
        exact = result_type("mul", x_type, self.slope_type) if x_type is not None else None
        dtype = exact_dtype(exact, x.dtype)
        wide = x.to(dtype)
        return self._finish(torch.where(wide >= 0, wide, wide * self.quantized_slope().to(dtype)), x.dtype)
