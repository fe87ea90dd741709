"""QBatchNorm1d and QBatchNorm2d: BatchNorm as the fixed-point affine the hardware computes."""

from __future__ import annotations

import math

import torch
from torch import nn

from fxhls.fixed import FixedType, native, result_type
from fxhls.qfx.elementwise import DEFAULT_BN_SCALE, DEFAULT_BN_SHIFT, DEFAULT_SUM, _Quantized
from fxhls.qfx.fusion import fused_relu, mark_computed
from fxhls.qfx.khot import khot_projection
from fxhls.qfx.quantizer import FixedQuantizer, errors_name
from fxhls.qfx.typed import exact_dtype, tag, type_of

_WIDEST_SIGNIFICAND = 53  # float64's; a wider bound holds in no float dtype


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
            mean, var = _BatchMoments.apply(x, reduce)
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
            relu = fused_relu(self)
            y = None if relu is None else self.output_quantizer.affine_relu(x, scale, shift, relu.output_quantizer)
            if y is not None:
                return mark_computed(tag(y, relu.output_type), relu)
            return tag(self.output_quantizer.affine(x, scale, shift), self.output_type)
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
        bound_code = (max(-out.min, out.max) + max(-shift.min, shift.max)) * 2.0**exact.frac_bits
        if not bound_code <= 2.0**_WIDEST_SIGNIFICAND:
            return False
        # Multiples of the lsb up to M: codes below 2**width, and M itself, a code <= 2**width.
        width = max((math.ceil(bound_code) - 1).bit_length(), 1)
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


class _BatchMoments(torch.autograd.Function):
    """Per-channel mean and (biased) variance of x over the dimensions `reduce`, with
    the gradient to x in one pass: x * 2 g_var / N + (g_mean - 2 g_var mean) / N."""

    @staticmethod
    def forward(ctx, x, reduce):
        sums = native.channel_sums(x)
        if sums is not None:  # one pass, in float64
            count = x.numel() // x.shape[1]
            mean64 = sums[0] / count
            mean, raw_var = mean64.to(x.dtype), (sums[1] / count - mean64 * mean64).to(x.dtype)
        else:
            mean = x.mean(reduce)
            raw_var = (x * x).mean(reduce) - mean * mean  # faster than Tensor.var here
        ctx.save_for_backward(x, mean, raw_var >= 0)
        ctx.reduce = reduce
        return mean, raw_var.clamp_min(0.0)

    @staticmethod
    def backward(ctx, grad_mean, grad_var):
        x, mean, var_kept = ctx.saved_tensors
        count = x.numel() // x.shape[1]
        grad_mean = torch.zeros_like(mean) if grad_mean is None else grad_mean
        grad_var = torch.zeros_like(mean) if grad_var is None else grad_var * var_kept
        shape = [1, -1] + [1] * (x.dim() - 2)
        slope = (2 * grad_var / count).view(shape)
        offset = ((grad_mean - 2 * grad_var * mean) / count).view(shape)
        return (x * slope).add_(offset), None  # twice as fast as addcmul's broadcast on CPU
