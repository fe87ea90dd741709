"""The float formats fixed-point values are emulated in, and which types fit them exactly.

Works with numpy and PyTorch dtypes alike (torch's are recognised by name, so this
module never imports torch).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .types import FixedType

# For each float format: significand bits (hidden bit included) and the largest exponent.
_FLOAT_FORMATS = {"float32": (24, 127), "float64": (53, 1023)}


def format_name(dtype) -> str:
    """"float32" or "float64": the format of a numpy or PyTorch `dtype`; `ValueError` for
    any other dtype."""
    if type(dtype).__module__ == "torch":
        name = str(dtype).removeprefix("torch.")
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
    if name not in _FLOAT_FORMATS:
        raise ValueError(f"fixed-point emulation needs float32 or float64 values, got {dtype}")
    return name


@lru_cache(maxsize=None)
def float_format(dtype) -> tuple[int, int]:
    """(significand bits, largest exponent) of float32 or float64 `dtype` (numpy or PyTorch);
    `ValueError` for any other dtype."""
    return _FLOAT_FORMATS[format_name(dtype)]


def require_float(dtype) -> None:
    """Raise `ValueError` unless `dtype` is one that fixed-point emulation works in."""
    float_format(dtype)


def fits_exactly(t: FixedType, dtype) -> bool:
    """Whether every value of `t` and every step of `quantize` is exact in `dtype` (float32
    or float64, numpy or PyTorch; `ValueError` for any other dtype)."""
    significand, max_exp = float_format(dtype)
    return t.width <= significand and abs(t.frac_bits) <= max_exp and t.int_bits <= max_exp + 1


def check_exact(t: FixedType, dtype) -> None:
    """Raise `ValueError` unless `fits_exactly(t, dtype)`."""
    if not fits_exactly(t, dtype):
        significand, max_exp = float_format(dtype)
        widest = "float64" if format_name(dtype) == "float32" and t.width <= 53 else None
        hint = f"; use {widest} tensors" if widest else ""
        raise ValueError(
            f"{t} cannot be emulated exactly in {dtype}: it supports widths up to "
            f"{significand} bits and binary points within 2**+-{max_exp}{hint}"
        )


def code_bounds(t: FixedType) -> tuple[int, int]:
    """The lowest and highest code a value saturates to. AP_SAT_SYM excludes the most
    negative code, except in a 1-bit signed type where the headers' "min + 1" is the
    sign bit itself, -1."""
    if t.overflow == "AP_SAT_SYM" and t.signed and t.width > 1:
        return -t.max_code, t.max_code
    return t.min_code, t.max_code


def code_range(t: FixedType) -> tuple[float, float]:
    """`code_bounds` as floats (exact for the types `fits_exactly` accepts)."""
    low, high = code_bounds(t)
    return float(low), float(high)


def wrap_bound(t: FixedType, dtype) -> float:
    """Scaled values are clamped to +-this before AP_WRAP: a value past it (+-inf too) is,
    like the bound, a multiple of 2**W, so it wraps alike; below it every wrapping step is
    exact (see `fxhls.fixed.quantize_torch.quantize_values`)."""
    return 2.0 ** (float_format(dtype)[0] - 1 + t.width)


@lru_cache(maxsize=4096)
def kernel_constants(t: FixedType, dtype) -> tuple[float, ...]:
    """The native kernel's constants for `t` on `dtype` values (`fxhls.fixed.native`)."""
    low, high = code_range(t)
    bound = wrap_bound(t, dtype) if t.overflow == "AP_WRAP" else 0.0
    return 2.0**t.frac_bits, 2.0**-t.frac_bits, low, high, bound, 2.0**t.width
