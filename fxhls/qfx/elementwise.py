"""Element-wise QFX layers: input, ReLU, residual add, pooling, flatten (BatchNorm: `batchnorm`).

Each computes its result exactly (in the input's dtype when the exact result
type fits it, else in float64) and quantizes it to its output type, as the
hardware does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fxhls.fixed import FixedType, accumulator_type, dot, exact_type, reciprocal, result_type
from fxhls.fixed.formats import fits_exactly
from fxhls.qfx.fusion import computed_by
from fxhls.qfx.max_pool import max_pool2d
from fxhls.qfx.quantizer import FixedQuantizer, errors_name
from fxhls.qfx.typed import exact_dtype, tag, type_of

DEFAULT_INPUT = "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"
DEFAULT_ACTIVATION = "ap_ufixed<8,3,AP_RND_CONV,AP_SAT>"
DEFAULT_SUM = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"
DEFAULT_BN_SCALE = "ap_fixed<12,4,AP_RND_CONV,AP_SAT>"
DEFAULT_BN_SHIFT = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"
# 1/N for an average over N values that is not a power of two.
RECIPROCAL_TYPE = FixedType(18, 0, False, "AP_RND_CONV", "AP_SAT")


class _Quantized(nn.Module):
    """A layer whose result is quantized by `output_quantizer` and tagged with its type."""

    def _setup_output(self, output, binary_point="learned"):
        with errors_name(self):
            self.output_quantizer = FixedQuantizer(output, binary_point)

    @property
    def output_type(self) -> FixedType:
        return self.output_quantizer.type

    def _finish(self, exact: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return tag(self.output_quantizer(exact).to(dtype), self.output_type)

    def _average(self, sums: torch.Tensor, x: torch.Tensor, count: int, windows) -> torch.Tensor:
        """The average of `count` values, `sums` (float64) times 1/count, quantized to the
        output type. Where float64 does not hold that product exactly (a wide input type),
        the values are the exact ones, each window's dot product with 1/count cast in
        integers (`windows(x)`: (N, C, positions, count)), the gradient that of the float64 one."""
        scale = reciprocal(count, RECIPROCAL_TYPE)
        y = self.output_quantizer(sums * scale)
        x_type = type_of(x)
        acc = accumulator_type(x_type, exact_type([scale]), count) if x_type is not None else None
        if acc is not None and not fits_exactly(acc, torch.float64):
            with torch.no_grad():
                weights = torch.full((count,), scale, dtype=torch.float64)
                exact = dot(windows(x.double()), weights, acc, self.output_type)
            y = y + (exact.reshape(y.shape).to(y.dtype) - y).detach()
        return tag(y.to(x.dtype), self.output_type)


class QInput(_Quantized):
    """Quantizes the network input to `type`.

    Its binary point is calibrated from data and then frozen by default (see
    `FixedQuantizer`): nothing then asks for the gradient at the input, so the first
    layer skips its input-gradient GEMM. `binary_point="learned"` learns it from the
    loss, at that GEMM's cost; "fixed" keeps `type`'s.
    """

    def __init__(self, type=DEFAULT_INPUT, binary_point="calibrated"):
        super().__init__()
        self._setup_output(type, binary_point)

    def forward(self, x):
        return self._finish(x, x.dtype)


class QReLU(_Quantized):
    """max(x, 0), quantized to `output` (unsigned by default)."""

    def __init__(self, output=DEFAULT_ACTIVATION):
        super().__init__()
        self._setup_output(output)

    def forward(self, x):
        if computed_by(x, self):
            return x  # the layer before, fused with this one (`fuse`), computed the output
        return tag(self.output_quantizer.relu(x), self.output_type)


class QAdd(_Quantized):
    """A residual add: a + b (exact), quantized to `output`."""

    def __init__(self, output=DEFAULT_SUM):
        super().__init__()
        self._setup_output(output)

    def forward(self, a, b):
        a_type, b_type = type_of(a), type_of(b)
        exact = result_type("add", a_type, b_type) if a_type and b_type else None
        dtype = exact_dtype(exact, a.dtype)
        return self._finish(a.to(dtype) + b.to(dtype), a.dtype)


class QMaxPool2d(nn.MaxPool2d):
    """Max pooling: selects values, so the type is the input's. Windows that tile the
    input run in fxhls's native kernels (`max_pool`), with torch's values and gradient."""

    def forward(self, x):
        if self.return_indices:
            return _keep_type(super().forward(x), x)
        pair = nn.modules.utils._pair
        pooled = max_pool2d(x, pair(self.kernel_size), pair(self.stride), pair(self.padding), pair(self.dilation),
                            self.ceil_mode)
        return _keep_type(pooled, x)


class QFlatten(nn.Flatten):
    """Flatten: moves values, so the type is the input's."""

    def forward(self, x):
        return _keep_type(super().forward(x), x)


class QAvgPool2d(_Quantized):
    """Average pooling: the exact window sum times 1/N (exact for N a power of two,
    else 1/N quantized to `RECIPROCAL_TYPE`), quantized to `output`; exact at any input width.
    `padding` adds zeros around the image first, which count in N (torch's count_include_pad=True)."""

    def __init__(self, kernel_size, stride=None, output=DEFAULT_SUM, padding=0):
        super().__init__()
        self.kernel_size = nn.modules.utils._pair(kernel_size)
        self.stride = nn.modules.utils._pair(stride if stride is not None else kernel_size)
        self.padding = nn.modules.utils._pair(padding)
        self._setup_output(output)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, x):
        sums = F.avg_pool2d(x.double(), self.kernel_size, self.stride, self.padding, divisor_override=1)
        return self._average(sums, x, self.kernel_size[0] * self.kernel_size[1], self._windows)

    def _windows(self, x: torch.Tensor) -> torch.Tensor:
        """The windows of x (N, C, H, W), zero-padded, as (N, C, positions, values of a window)."""
        count = self.kernel_size[0] * self.kernel_size[1]
        columns = F.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)  # (N, C * count, positions)
        return columns.view(x.shape[0], x.shape[1], count, -1).transpose(2, 3)


class QAdaptiveAvgPool2d(_Quantized):
    """Global average pooling (output size 1): the exact sum over H x W times 1/(H*W);
    (N, C, 1, 1), or (N, C) without `keepdim` (as `x.mean((2, 3))` gives)."""

    def __init__(self, output_size=1, output=DEFAULT_SUM, keepdim=True):
        super().__init__()
        if output_size not in (1, (1, 1)):
            raise ValueError(f"QAdaptiveAvgPool2d supports output size 1 only, got {output_size!r}")
        self.keepdim = keepdim
        self._setup_output(output)

    def forward(self, x):
        sums = x.double().sum(dim=(2, 3), keepdim=self.keepdim)
        return self._average(sums, x, x.shape[2] * x.shape[3], lambda x: x.flatten(2)[:, :, None, :])


def _keep_type(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    t = type_of(x)
    return tag(y, t) if t is not None else y
