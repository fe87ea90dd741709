"""`quantize`: the value C++ `T r = x;` stores, for a tensor of floats.

Every step is exact floating-point arithmetic, so the result is exact, not an
approximation: scaling by a power of two, `fmod`/`remainder` by a power of two,
`floor`/`ceil`/`trunc`/`round`, and adding one half to a value whose unit in the
last place is at most one half. The `FixedType` must fit the tensor's dtype
(`check_exact`), otherwise the result could not be held and we refuse.
"""

from __future__ import annotations

import torch

from .types import FixedType

# For each float dtype: significand bits (hidden bit included) and the largest exponent.
_FLOAT_FORMATS = {torch.float32: (24, 127), torch.float64: (53, 1023)}


def require_float(dtype: torch.dtype) -> None:
    """Raise `ValueError` unless `dtype` is one that fixed-point emulation works in."""
    if dtype not in _FLOAT_FORMATS:
        raise ValueError(f"fixed-point emulation needs float32 or float64 tensors, got {dtype}")


def check_exact(t: FixedType, dtype: torch.dtype) -> None:
    """Raise `ValueError` unless every value of `t` and every step of `quantize` is exact in `dtype`."""
    require_float(dtype)
    significand, max_exp = _FLOAT_FORMATS[dtype]
    if t.width > significand or abs(t.frac_bits) > max_exp or t.int_bits > max_exp + 1:
        widest = "float64" if dtype == torch.float32 and t.width <= 53 else None
        hint = f"; use {widest} tensors" if widest else ""
        raise ValueError(
            f"{t} cannot be emulated exactly in {dtype}: it supports widths up to "
            f"{significand} bits and binary points within 2**+-{max_exp}{hint}"
        )


def quantize(x: torch.Tensor, t: FixedType | str) -> torch.Tensor:
    """Return, element by element, exactly the value that C++ `t r = x;` stores.

    `x` is a float32 or float64 tensor on any device; the result has its dtype and
    device. `t` is a `FixedType` or its C++ spelling. Exact for widths up to 24 bits
    on float32 and 53 on float64; a wider type raises `ValueError` rather than
    approximate. NaN is not a fixed-point value: it stays NaN (the C++ headers
    warn and store a saturated or wrapped code).

    Gradient (straight-through estimator): the incoming gradient passes unchanged
    where `t.min <= x <= t.max` and is zero outside that range, where the value
    saturates or wraps.
    """
    t = FixedType.parse(t)
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x, dtype=torch.float64)
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
    """`quantize` without autograd or checks: `x` must already pass `check_exact`."""
    significand, max_exp = _FLOAT_FORMATS[x.dtype]
    v = x * 2.0**t.frac_bits
    if t.frac_bits < 0:
        # Scaling down may underflow a tiny x to zero; it must keep its sign, as
        # floor(-tiny) is -1. Any value of magnitude below one half rounds alike.
        v = torch.where(v == 0, torch.sign(x) * 0.25, v)
    if t.overflow == "AP_WRAP":
        # Only v modulo 2**W matters. Clamping first turns +-inf (from a finite x
        # scaled past the dtype's range) into a multiple of 2**W, as its exact value is.
        v.clamp_(-(2.0**max_exp), 2.0**max_exp)
        v = torch.fmod(v, 2.0**t.width, out=v)
    code = _round(v, t.rounding, needs_half_guard=t.width >= significand - 1, significand=significand)
    code = _overflow(code, t)
    return code.mul_(2.0**-t.frac_bits).add_(0.0)  # adding +0 turns -0 into +0, as C++ stores it


def _round(v: torch.Tensor, mode: str, *, needs_half_guard: bool, significand: int) -> torch.Tensor:
    """Round the scaled value `v` to an integer code with the C++ quantization mode."""
    if mode == "AP_TRN":
        return v.floor_()
    if mode == "AP_TRN_ZERO":
        return v.trunc_()
    if mode == "AP_RND_CONV":
        return v.round_()  # ties to even
    if mode == "AP_RND":
        code = (v + 0.5).floor_()
    elif mode == "AP_RND_MIN_INF":
        code = (v - 0.5).ceil_()
    elif mode == "AP_RND_INF":
        code = (v + torch.copysign(torch.tensor(0.5, dtype=v.dtype, device=v.device), v)).trunc_()
    else:  # AP_RND_ZERO: ties toward zero
        code = v.abs().sub_(0.5).ceil_().copysign_(v)
    if needs_half_guard:
        # v +- 0.5 is exact only below 2**(significand-1); above it v is already an integer.
        code = torch.where(v.abs() >= 2.0 ** (significand - 1), v, code)
    return code


def _overflow(code: torch.Tensor, t: FixedType) -> torch.Tensor:
    """Bring an integer code into `t`'s range with the C++ overflow mode."""
    low, high = float(t.min_code), float(t.max_code)
    if t.overflow == "AP_SAT":
        return code.clamp_(low, high)
    if t.overflow == "AP_SAT_SYM":
        # Symmetric: the most negative code is excluded, except in a 1-bit signed
        # type where the headers' "min + 1" is the sign bit itself, -1.
        symmetric_low = -high if t.signed and t.width > 1 else low
        return code.clamp_(symmetric_low, high)
    if t.overflow == "AP_SAT_ZERO":
        return code.masked_fill_((code < low) | (code > high), 0.0)
    period = 2.0**t.width
    code = torch.remainder(code, period, out=code)
    if t.signed:
        code = torch.where(code > high, code - period, code)
    return code
