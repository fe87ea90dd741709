"""`FixedQuantizer`: quantizes a tensor to an `ap_fixed` type whose binary point is learned.

The width, signedness and modes are fixed; the number of integer bits is a
continuous parameter, rounded to an integer in the forward pass (QFX). It is
learned from the loss, calibrated from data and then frozen, or fixed
(`BINARY_POINTS`).

Gradient estimator, with s = 2**(int_bits - width) the type's lsb, q(x) the
quantized value and int_bits the (rounded) integer bits:

* to x: straight-through, 1 where x lies inside [t.min, t.max], 0 outside;
* to int_bits: d q / d int_bits = ln 2 * (q - x) inside the range (rounding error:
  more integer bits mean a coarser grid; this is LSQ's step-size gradient with
  s = 2**(int_bits - width)), and ln 2 * q outside it (a saturated q is the range
  bound, which grows with 2**int_bits, so overflow pushes the point right). The
  sum over elements is scaled by 1/sqrt(numel * max_code), as LSQ does, so one
  learning rate suits layers of any size.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from functools import lru_cache

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from fxhls.fixed import FixedType, native, quantize
from fxhls.fixed.quantize import check_exact, kernel_constants, quantize_values

_LN2 = math.log(2.0)
# How a quantizer's integer bits are set (see `FixedQuantizer`).
BINARY_POINTS = ("learned", "calibrated", "fixed")


class FixedQuantizer(nn.Module):
    """Quantize to `type`, whose integer bits are set as `binary_point` says:

    * "learned": a trained parameter (QFX), moved by the loss's gradient;
    * "calibrated": fitted to data and then frozen, without a gradient: by `calibrate`,
      by a loaded state dict, or else by the first batch quantized in training mode with
      gradients enabled (the fewest integer bits that hold it; under torch.distributed,
      the range of every rank's first batch, so every rank must run that step);
    * "fixed": the type's, always (`calibrate` checks that it holds the data).

    `type` is a `FixedType` or its C++ spelling; its `int_bits` is the starting point.
    `project`, if given, maps already-quantized values onto a subset of the type
    (K-hot weights); it must be exact and idempotent.
    """

    def __init__(self, type, binary_point: str = "learned", project=None):
        super().__init__()
        if binary_point not in BINARY_POINTS:
            raise ValueError(f"binary_point must be one of {', '.join(BINARY_POINTS)}, got {binary_point!r}")
        t = FixedType.parse(type)
        self.width, self.signed = t.width, t.signed
        self.rounding, self.overflow = t.rounding, t.overflow
        self.binary_point = binary_point
        self.int_bits = nn.Parameter(torch.tensor(float(t.int_bits)), requires_grad=binary_point == "learned")
        self.fitted = False  # whether data has set a calibrated binary point
        self.project = project
        self._last_type = t  # rebuilt only when the rounded integer bits change

    @property
    def type(self) -> FixedType:
        """The current fixed-point type (integer bits rounded)."""
        int_bits = round(self.int_bits.item())
        if int_bits != self._last_type.int_bits:
            self._last_type = FixedType(self.width, int_bits, self.signed, self.rounding, self.overflow)
        return self._last_type

    def set_int_bits(self, int_bits: int) -> None:
        """Move the binary point (calibration)."""
        with torch.no_grad():
            self.int_bits.fill_(float(int_bits))

    def reach(self, int_bits: int) -> tuple[float, float]:
        """The lowest and highest values this quantizer can produce with `int_bits` integer
        bits: its type's min and max, or, with a projection (K-hot), the projected ones."""
        t = FixedType(self.width, int_bits, self.signed, self.rounding, self.overflow)
        if self.project is None:
            return t.min, t.max
        ends = self.project(torch.tensor([t.min, t.max], dtype=torch.float64), t)
        return ends[0].item(), ends[1].item()

    def fitting_int_bits(self, low: float, high: float) -> int | None:
        """The fewest integer bits with which this quantizer holds every value in [low, high]
        (for an unsigned type: in [0, high], as it clamps negatives at any binary point).
        None when there is nothing to hold (all values zero)."""
        magnitude = max(high, -low if self.signed else 0.0)
        if magnitude <= 0:
            return None

        def holds(int_bits):
            lowest, highest = self.reach(int_bits)
            return high <= highest and (not self.signed or lowest <= low)

        int_bits = math.frexp(magnitude)[1]  # magnitude < 2**int_bits: close to the answer
        while holds(int_bits - 1):
            int_bits -= 1
        while not holds(int_bits):
            int_bits += 1
        return int_bits

    def _fit_first_batch(self, x: torch.Tensor) -> None:
        """Calibrate the binary point on `x` (with every rank's under torch.distributed)."""
        with torch.no_grad():
            bounds = torch.stack([-x.min(), x.max()]).double()
            if dist.is_available() and dist.is_initialized():
                dist.all_reduce(bounds, op=dist.ReduceOp.MAX)
        low, high = -bounds[0].item(), bounds[1].item()
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"FixedQuantizer: cannot calibrate {self.type} on non-finite values ({low}, {high})")
        int_bits = self.fitting_int_bits(low, high)
        if int_bits is not None:
            self.set_int_bits(int_bits)
            self.fitted = True

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if prefix + "int_bits" in state_dict:
            self.fitted = True  # a saved binary point is not refitted to the next batch

    def forward(self, x: torch.Tensor, exact: torch.Tensor | None = None) -> torch.Tensor:
        """quantize(x) with this quantizer's gradients. With `exact`, x is a rounded
        stand-in (float32, say) for values held exactly in `exact` (float64): the result
        is quantize(exact) in x's dtype, and the gradients are computed from x, in
        x's cheaper dtype."""
        if self.binary_point == "calibrated" and not self.fitted and self.training and torch.is_grad_enabled():
            self._fit_first_batch(x if exact is None else exact)
        t = self.type
        check_exact(t, x.dtype)
        values = None
        if exact is not None:
            check_exact(t, exact.dtype)
            values = quantize_values(exact.detach(), t).to(x.dtype)
        if self._learning():
            y = _LearnedBinaryPoints.apply(((t, values, t.min),), x, self.int_bits)
        elif values is None and not (x.requires_grad and torch.is_grad_enabled()):
            y = quantize_values(x, t)  # no gradient to carry (a frozen network input): no autograd node
        else:
            y = quantize(x, t)
            if values is not None:
                y = y + (values - y).detach()
        return self.project(y, t) if self.project is not None else y

    def relu(self, x: torch.Tensor) -> torch.Tensor:
        """self(relu(x)): the same values and gradients, in one pass when the type is
        unsigned and saturating and its binary point is being learned. Negative values
        then saturate to 0 as relu makes them, and the gradient to x stops at x <= 0."""
        t = self.type
        if not relu_makes_zeros(t) or not self._learning():
            return self(F.relu(x))
        check_exact(t, x.dtype)
        y = _LearnedBinaryPoints.apply(((t, None, smallest_positive(x.dtype)),), x, self.int_bits)
        return self.project(y, t) if self.project is not None else y

    def affine(self, x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        """self(x * scale + shift) with one scale and shift per channel (dimension 1, shaped
        to broadcast), the affine taken in x's dtype: the caller has checked that this
        quantizes exactly. One pass each way with the native kernels while the binary
        point is learned, the affine then computed as a multiply and an add."""
        t = self.type
        channels = (x.shape[1],)
        if self._learning() and self.project is None and native.serves(x.detach()):
            check_exact(t, x.dtype)
            return _AffineLearnedPoint.apply(x, scale.reshape(channels), shift.reshape(channels), self.int_bits, t)
        return self(torch.addcmul(shift, x, scale))

    def affine_relu(self, x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor,
                    relu: FixedQuantizer) -> torch.Tensor | None:
        """`relu.relu(self.affine(x, scale, shift))` (a BatchNorm's output, then a ReLU's), the
        same values and gradients in one autograd node and one native pass each way; None
        where that does not serve: both binary points learned, no projection, `relu`'s
        type unsigned and saturating, the native kernels serving x."""
        t, relu_t = self.type, relu.type
        if not (self._learning() and relu._learning() and self.project is None and relu.project is None):
            return None
        if not (relu_makes_zeros(relu_t) and native.serves(x.detach())):
            return None
        check_exact(t, x.dtype)
        check_exact(relu_t, x.dtype)
        channels = (x.shape[1],)
        return _AffineReluLearnedPoints.apply(x, scale.reshape(channels), shift.reshape(channels), self.int_bits,
                                              relu.int_bits, t, relu_t)

    @staticmethod
    def quantize_together(quantizers: list[FixedQuantizer], tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        """`[q(x) for q, x in zip(quantizers, tensors)]`, the same values and gradients, in one
        autograd node (one node's overhead for a layer's weight and bias) when every
        quantizer learns its binary point plainly: no projection, no first batch to fit."""
        if not all(q.project is None and q._learning() for q in quantizers):
            return [q(x) for q, x in zip(quantizers, tensors)]
        specs, inputs = [], []
        for q, x in zip(quantizers, tensors):
            t = q.type
            check_exact(t, x.dtype)
            specs.append((t, None, t.min))
            inputs += (x, q.int_bits)
        return list(_LearnedBinaryPoints.apply(tuple(specs), *inputs))

    def _learning(self) -> bool:
        return self.int_bits.requires_grad and torch.is_grad_enabled()

    def extra_repr(self) -> str:
        return f"{self.type}, {self.binary_point} binary point"


class _LearnedBinaryPoints(torch.autograd.Function):
    """quantize(x) with the gradients of a learned binary point (see the module's docstring)
    for one tensor or several, each with its own type and point, in one autograd node.
    `apply(specs, x0, int_bits0, x1, int_bits1, ...)`, a spec per tensor: `(t, values,
    lowest_inside)`, with `values` quantize(x) if already known (else None) and
    `lowest_inside` the smallest x whose gradient passes (t.min, or the smallest positive
    float after a relu). Returns one tensor, or a tuple for several."""

    @staticmethod
    def forward(ctx, specs, *inputs):
        outputs, kernels = [], []
        for (t, values, _), x in zip(specs, inputs[::2]):
            y, kernel = learned_point_forward(x, t, values)
            outputs.append(y)
            kernels.append(kernel)
        ctx.save_for_backward(*inputs[::2], *outputs)
        ctx.specs, ctx.kernels = specs, kernels
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    @staticmethod
    def backward(ctx, *grads):
        saved = ctx.saved_tensors
        count = len(grads)
        result = [None]
        for i, ((t, _, lowest_inside), kernel, grad) in enumerate(zip(ctx.specs, ctx.kernels, grads)):
            result += learned_point_backward(saved[i], saved[count + i], grad, t, lowest_inside, kernel,
                                             ctx.needs_input_grad[1 + 2 * i])
        return tuple(result)


def learned_point_forward(x: torch.Tensor, t: FixedType, values: torch.Tensor | None = None):
    """(quantize(x, t), the native kernels that computed it or None) outside autograd, for
    `learned_point_backward`; `values`, if given, is quantize(x, t) already computed."""
    kernel = native.kernels_for(x, t)  # None on CUDA or without the native kernels
    if kernel is None:
        return (quantize_values(x, t) if values is None else values), None
    return (kernel.quantize(x) if values is None else values.contiguous()), kernel


def learned_point_backward(x, y, grad, t, lowest_inside, kernel, needs_grad_x, grad_is_ours=False):
    """(gradient to x or None, gradient to the binary point) of y = quantize(x, t) with a
    learned binary point (see the module's docstring), from `learned_point_forward`'s
    `kernel`; `lowest_inside`: the smallest x whose gradient passes. `grad_is_ours`: no one
    else holds `grad`, so the gradient to x may be written over it."""
    if kernel is not None:
        fused = kernel.learned_point_backward(x, y, grad, lowest_inside, t.max, needs_grad_x, grad_is_ours)
        if fused is not None:
            grad_x, total = fused
            return grad_x, point_gradient(total, x, t)
    # The same in PyTorch operations (CUDA, or no native kernels). Float masks and
    # in-place passes: boolean tensors and fresh allocations cost more than arithmetic.
    clamped = x.clamp(lowest_inside, t.max)
    inside = torch.eq(clamped, x, out=torch.empty_like(x))  # 1.0 inside, 0.0 outside
    # Per element, q - x inside and q outside: q - clamped * inside (clamped is finite,
    # and equals x inside). q - x is small: taking it element-wise avoids the
    # cancellation of grad.q - grad.x.
    per_element = torch.sub(y, clamped.mul_(inside), out=clamped)
    total = torch.dot(grad.flatten(), per_element.flatten())
    grad_int_bits = (total * _point_gradient_scale(x, t)).to(torch.float32)
    grad_x = inside.mul_(grad) if needs_grad_x else None
    return grad_x, grad_int_bits


class _AffineLearnedPoint(torch.autograd.Function):
    """quantize(x * scale + shift) with per-channel scale and shift, by the native kernels;
    the gradients of `_LearnedBinaryPoints` through z = x * scale + shift."""

    @staticmethod
    def forward(ctx, x, scale, shift, int_bits, t):
        ctx.t, ctx.dtypes = t, (scale.dtype, shift.dtype)
        scale, shift = scale.to(x.dtype).contiguous(), shift.to(x.dtype).contiguous()
        y = native.affine_quantize(x.contiguous(), scale, shift, t, kernel_constants(t, x.dtype))
        ctx.save_for_backward(x, y, scale, shift)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y, scale, shift = ctx.saved_tensors
        t = ctx.t
        grad_x, grad_scale, grad_shift, total = native.affine_backward(
            x.contiguous(), y, grad, scale, shift, t.min, t.max, ctx.needs_input_grad[0])
        grad_point = point_gradient(total, x, t)
        scale_dtype, shift_dtype = ctx.dtypes
        return grad_x, grad_scale.to(scale_dtype), grad_shift.to(shift_dtype), grad_point, None


class _AffineReluLearnedPoints(torch.autograd.Function):
    """relu_q(q(x * scale + shift)): `_AffineLearnedPoint` followed by a ReLU's
    `_LearnedBinaryPoints` (`FixedQuantizer.relu`), in one node and one native pass each way
    (`native.affine_relu_quantize`, `native.affine_relu_backward`), with their values and
    gradients: the kernels compute what the two nodes' kernels compute, sums in their order."""

    @staticmethod
    def forward(ctx, x, scale, shift, int_bits, relu_int_bits, t, relu_t):
        ctx.types, ctx.dtypes = (t, relu_t), (scale.dtype, shift.dtype)
        scale, shift = scale.to(x.dtype).contiguous(), shift.to(x.dtype).contiguous()
        y1, y2 = native.affine_relu_quantize(x, scale, shift, t, relu_t)
        ctx.save_for_backward(x, y1, y2, scale, shift)
        return y2

    @staticmethod
    def backward(ctx, grad):
        x, y1, y2, scale, shift = ctx.saved_tensors
        t, relu_t = ctx.types
        bounds = (t.min, t.max, smallest_positive(x.dtype), relu_t.max)
        grad_x, grad_scale, grad_shift, total, relu_total = native.affine_relu_backward(
            x, y1, y2, grad, scale, shift, bounds, ctx.needs_input_grad[0])
        grad_point = point_gradient(total, x, t)
        relu_point = point_gradient(relu_total, y1, relu_t)
        scale_dtype, shift_dtype = ctx.dtypes
        return grad_x, grad_scale.to(scale_dtype), grad_shift.to(shift_dtype), grad_point, relu_point, None, None


def relu_makes_zeros(t: FixedType) -> bool:
    """Whether quantizing to `t` makes relu's zeros itself: an unsigned saturating type."""
    return not t.signed and t.overflow in ("AP_SAT", "AP_SAT_SYM")


@lru_cache(maxsize=None)
def smallest_positive(dtype: torch.dtype) -> float:
    """The smallest positive (subnormal) value of `dtype`."""
    finfo = torch.finfo(dtype)
    return finfo.tiny * finfo.eps


def point_gradient(total: float, x: torch.Tensor, t: FixedType) -> torch.Tensor:
    """The gradient to a binary point (float32) from a native pass's sum `total` over x's
    elements quantized to t: LSQ-scaled (`_point_gradient_scale`)."""
    return torch.scalar_tensor(total * _point_gradient_scale(x, t), dtype=torch.float32)


def _point_gradient_scale(x: torch.Tensor, t: FixedType) -> float:
    """ln 2 / sqrt(numel * max_code): the binary point's gradient per element, LSQ-scaled."""
    return _LN2 / math.sqrt(x.numel() * max(t.max_code, 1))


@contextmanager
def errors_name(layer: nn.Module):
    """Prefix a `ValueError` raised while building `layer` with its class name."""
    try:
        yield
    except ValueError as err:
        raise ValueError(f"{type(layer).__name__}: {err}") from None
