"""Element-wise QFX layers: input, ReLU, residual add, BatchNorm, pooling, flatten.

Each computes its result exactly (in the input's dtype when the exact result
type fits it, else in float64) and quantizes it to its output type, as the
hardware does.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from fxhls.fixed import FixedType, reciprocal, result_type
from fxhls.qfx.khot import khot_projection
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

    def _setup_output(self, output):
        with errors_name(self):
            self.output_quantizer = FixedQuantizer(output)

    @property
    def output_type(self) -> FixedType:
        return self.output_quantizer.type

    def _finish(self, exact: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return tag(self.output_quantizer(exact).to(dtype), self.output_type)


class QInput(_Quantized):
    """Quantizes the network input to `type`."""

    def __init__(self, type=DEFAULT_INPUT):
        super().__init__()
        self._setup_output(type)

    def forward(self, x):
        return self._finish(x, x.dtype)


class QReLU(_Quantized):
    """max(x, 0), quantized to `output` (unsigned by default)."""

    def __init__(self, output=DEFAULT_ACTIVATION):
        super().__init__()
        self._setup_output(output)

    def forward(self, x):
        return self._finish(F.relu(x), x.dtype)


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


class _QBatchNorm(_Quantized):
    """BatchNorm as a fixed-point affine: y = q_out(x * q_scale(scale) + q_shift(shift)).

    scale = gamma / sqrt(var + eps) and shift = beta - mean * q_scale(scale), with the
    batch statistics in training (running statistics updated as in nn.BatchNorm) and
    the running ones in evaluation; x * scale + shift is exact in float64 (when it
    does not fit x's dtype, its value rounded to that dtype carries the gradients).
    `khot=K` makes the scale K-hot, so the multiply needs no DSP.
    """

    def _setup_affine(self, output, scale_type, shift_type, khot):
        self._setup_output(output)
        with errors_name(self):
            project = khot_projection(khot) if khot is not None else None
            self.scale_quantizer = FixedQuantizer(scale_type, project=project)
            self.shift_quantizer = FixedQuantizer(shift_type)
        self.khot = khot

    @property
    def scale_type(self) -> FixedType:
        return self.scale_quantizer.type

    @property
    def shift_type(self) -> FixedType:
        return self.shift_quantizer.type

    def quantized_affine(self, mean: torch.Tensor | None = None, var: torch.Tensor | None = None):
        """(scale, shift) as the hardware holds them, from the running statistics by default."""
        mean = self.running_mean if mean is None else mean
        var = self.running_var if var is None else var
        gamma = self.weight if self.affine else torch.ones_like(mean)
        beta = self.bias if self.affine else torch.zeros_like(mean)
        scale = self.scale_quantizer(gamma / torch.sqrt(var + self.eps))
        shift = self.shift_quantizer(beta - mean * scale)
        return scale, shift

    def forward(self, x):
        reduce = [d for d in range(x.dim()) if d != 1]
        if self.training:
            mean = x.mean(reduce)
            var = ((x * x).mean(reduce) - mean * mean).clamp_min(0.0)  # faster than Tensor.var here
            with torch.no_grad():
                count = x.numel() // x.shape[1]
                self.num_batches_tracked += 1
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * count / max(count - 1, 1), self.momentum)
            scale, shift = self.quantized_affine(mean, var)
        else:
            scale, shift = self.quantized_affine()
        shape = [1, -1] + [1] * (x.dim() - 2)
        scale, shift = scale.view(shape), shift.view(shape)
        exact_type = self._exact_result_type(type_of(x))
        dtype = exact_dtype(exact_type, x.dtype)
        if dtype == x.dtype or self._saturates_alike(exact_type, x.dtype):
            return self._finish(torch.addcmul(shift, x, scale), x.dtype)
        if exact_dtype(self.output_type, x.dtype) != x.dtype:
            return self._finish(torch.addcmul(shift.to(dtype), x.to(dtype), scale.to(dtype)), x.dtype)
        # The output fits x's dtype but the affine does not: the affine rounded to x's
        # dtype carries the gradients (cheaper), its exact value in float64 the result.
        with torch.no_grad():
            exact = torch.addcmul(shift.to(dtype), x.to(dtype), scale.to(dtype))
        return tag(self.output_quantizer(torch.addcmul(shift, x, scale), exact=exact), self.output_type)

    def _saturates_alike(self, exact: FixedType | None, dtype: torch.dtype) -> bool:
        """Whether x * scale + shift computed in `dtype` quantizes to what its exact value does,
        though it may not fit `dtype`. True for a saturating output when every multiple of the
        exact type's lsb up to M = |output| + |shift| in magnitude is held in `dtype`: a product
        within M is exact, so is a sum within the output's range, and a larger (rounded)
        product or sum lies, as rounding is monotonic, past the same range bound."""
        out, shift = self.output_type, self.shift_type
        if exact is None or out.overflow not in ("AP_SAT", "AP_SAT_SYM"):
            return False
        bound = max(-out.min, out.max) + max(-shift.min, shift.max)
        # Multiples of the lsb up to M: codes below 2**width, and M itself, a code <= 2**width.
        width = max((math.ceil(bound * 2.0**exact.frac_bits) - 1).bit_length(), 1)
        return exact_dtype(FixedType(width, width - exact.frac_bits, signed=False), dtype) == dtype

    def _exact_result_type(self, input_type: FixedType | None) -> FixedType | None:
        if input_type is None:
            return None
        return result_type("add", result_type("mul", input_type, self.scale_type), self.shift_type)


class QBatchNorm2d(_QBatchNorm, nn.BatchNorm2d):
    """`nn.BatchNorm2d` as a fixed-point affine (see `_QBatchNorm`)."""

    def __init__(self, num_features, output=DEFAULT_SUM, scale_type=DEFAULT_BN_SCALE,
                 shift_type=DEFAULT_BN_SHIFT, khot=None, eps=1e-5, momentum=0.1):
        super().__init__(num_features, eps=eps, momentum=momentum)
        self._setup_affine(output, scale_type, shift_type, khot)


class QBatchNorm1d(_QBatchNorm, nn.BatchNorm1d):
    """`nn.BatchNorm1d` as a fixed-point affine (see `_QBatchNorm`)."""

    def __init__(self, num_features, output=DEFAULT_SUM, scale_type=DEFAULT_BN_SCALE,
                 shift_type=DEFAULT_BN_SHIFT, khot=None, eps=1e-5, momentum=0.1):
        super().__init__(num_features, eps=eps, momentum=momentum)
        self._setup_affine(output, scale_type, shift_type, khot)


class QMaxPool2d(nn.MaxPool2d):
    """Max pooling: selects values, so the type is the input's."""

    def forward(self, x):
        return _keep_type(super().forward(x), x)


class QFlatten(nn.Flatten):
    """Flatten: moves values, so the type is the input's."""

    def forward(self, x):
        return _keep_type(super().forward(x), x)


class QAvgPool2d(_Quantized):
    """Average pooling: the exact window sum times 1/N (exact for N a power of two,
    else 1/N quantized to `RECIPROCAL_TYPE`), quantized to `output`."""

    def __init__(self, kernel_size, stride=None, output=DEFAULT_SUM):
        super().__init__()
        self.kernel_size = nn.modules.utils._pair(kernel_size)
        self.stride = nn.modules.utils._pair(stride if stride is not None else kernel_size)
        self._setup_output(output)

    def forward(self, x):
        sums = F.avg_pool2d(x.double(), self.kernel_size, self.stride, divisor_override=1)
        count = self.kernel_size[0] * self.kernel_size[1]
        return self._finish(sums * reciprocal(count, RECIPROCAL_TYPE), x.dtype)


class QAdaptiveAvgPool2d(_Quantized):
    """Global average pooling (output size 1): the exact sum over H x W times 1/(H*W)."""

    def __init__(self, output_size=1, output=DEFAULT_SUM):
        super().__init__()
        if output_size not in (1, (1, 1)):
            raise ValueError(f"QAdaptiveAvgPool2d supports output size 1 only, got {output_size!r}")
        self._setup_output(output)

    def forward(self, x):
        sums = x.double().sum(dim=(2, 3), keepdim=True)
        return self._finish(sums * reciprocal(x.shape[2] * x.shape[3], RECIPROCAL_TYPE), x.dtype)


def _keep_type(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    t = type_of(x)
    return tag(y, t) if t is not None else y
