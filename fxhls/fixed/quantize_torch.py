"""`quantize` on PyTorch tensors: the value C++ `T r = x;` stores, with a straight-through gradient.

Every step is exact floating-point arithmetic, so the result is exact, not an
approximation: scaling by powers of two, floor/trunc/round, and differences whose
exact value is representable. The `FixedType` must fit the tensor's dtype
(`check_exact`), otherwise the result could not be held and we refuse. On a CPU the
native kernel (`fxhls.fixed.native`) takes the same steps in one pass.
"""

from __future__ import annotations

import torch

from . import native_tensors
from .formats import check_exact, code_range, wrap_bound
from .types import FixedType


def quantize_tensor(x: torch.Tensor, t: FixedType) -> torch.Tensor:
    """`fxhls.fixed.quantize` of a float32 or float64 tensor, on any device: the result has
    its dtype and device, and the straight-through gradient (1 inside `[t.min, t.max]`,
    0 outside, where the value saturates or wraps)."""
    check_exact(t, x.dtype)
    return _StraightThrough.apply(x, t)


class _StraightThrough(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, t):
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward((x >= t.min) & (x <= t.max))
        return quantize_values(x, t)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside, None


def quantize_values(x: torch.Tensor, t: FixedType) -> torch.Tensor:
    """`quantize` without autograd or checks: `x` must already pass `check_exact`.

    On a CPU, one pass of the native kernel (`fxhls.fixed.native`, the same steps);
    otherwise PyTorch operations in place on at most two fresh tensors: allocating
    a large tensor costs more than an arithmetic pass over it.
    """
    fused = native_tensors.quantize_into(x, t)
    if fused is not None:
        return fused
    scaled = x * 2.0**t.frac_bits
    if t.frac_bits < 0:
        # Scaling down may underflow a tiny x to zero; it must keep its sign, as
        # floor(-tiny) is -1. Any value of magnitude below one half rounds alike.
        scaled = torch.where(scaled == 0, torch.sign(x) * 0.25, scaled)
    if t.overflow == "AP_WRAP":
        # Wrapping needs finite codes with |code| <= 2**(p-1+W) (p: significand bits).
        # A value past that bound (+-inf too) is, like the bound, a multiple of 2**W,
        # so it wraps alike. The saturating modes take +-inf as it is: every rounding
        # step keeps it (or makes a NaN that leaves the code +-inf), and it saturates.
        bound = wrap_bound(t, x.dtype)
        scaled.clamp_(-bound, bound)
    code, spare = _round(scaled, t.rounding)
    code = _overflow(code, t, spare)
    return code.mul_(2.0**-t.frac_bits).add_(0.0)  # adding +0 turns -0 into +0, as C++ stores it


def _round(v: torch.Tensor, mode: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Round the scaled values `v` (which this overwrites) to integer codes with the
    C++ quantization mode. Returns the codes and a spare tensor of v's shape, if any.

    Every step is exact at any magnitude: floor/trunc/round, and `v - round(v)`,
    which is exactly +-0.5 at a tie. Adding 0.5 before a floor would not be: just
    below a tie, v + 0.5 can round up to the next integer.
    """
    if mode == "AP_TRN":
        return v.floor_(), None
    if mode == "AP_TRN_ZERO":
        return v.trunc_(), None
    if mode == "AP_RND_CONV":
        return v.round_(), None  # ties to even
    code = torch.round(v)
    if mode in ("AP_RND", "AP_RND_MIN_INF"):
        # v - code is +0.5 exactly at a tie that went down, -0.5 at one that went up.
        wrong_way = 0.5 if mode == "AP_RND" else -0.5
        went_wrong_way = torch.eq(v.sub_(code), wrong_way, out=v)  # 1.0 or 0.0
        return code.add_(went_wrong_way, alpha=2 * wrong_way), v
    # AP_RND_INF / AP_RND_ZERO: ties away from / toward zero.
    tie = (v - code).abs_() == 0.5
    away = torch.copysign(torch.tensor(0.5, dtype=v.dtype, device=v.device), v)
    tie_result = v.add_(away if mode == "AP_RND_INF" else -away)
    return torch.where(tie, tie_result, code), None


def _overflow(code: torch.Tensor, t: FixedType, spare: torch.Tensor | None) -> torch.Tensor:
    """Bring integer codes into `t`'s range with the C++ overflow mode (in place)."""
    low, high = code_range(t)
    if t.overflow in ("AP_SAT", "AP_SAT_SYM"):
        return code.clamp_(low, high)
    if t.overflow == "AP_SAT_ZERO":
        return code.masked_fill_((code < low) | (code > high), 0.0)
    # AP_WRAP: code - 2**W * floor(code / 2**W + (1/2 if signed)). The quotient has
    # no bit below 2**-W and, as |code| <= 2**(p-1+W), none above 2**(p-1), so the
    # floor of it plus 1/2 is exact.
    wraps = torch.mul(code, 2.0**-t.width, out=spare if spare is not None else torch.empty_like(code))
    if t.signed:
        wraps.add_(0.5)
    return code.sub_(wraps.floor_(), alpha=2.0**t.width)
