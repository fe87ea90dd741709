"""The narrowest fixed-point type that holds given values exactly."""

from __future__ import annotations

import numpy as np

from .types import FixedType


def exact_type(values, signed: bool | None = None, min_frac_bits: int | None = None) -> FixedType:
    """The narrowest `FixedType` (default modes) holding every one of `values` exactly.

    `values`: anything `np.asarray` takes (a PyTorch tensor on the CPU too).
    Floats are dyadic rationals, so one always exists. Signed when a value is
    negative, or as `signed` says; at least `min_frac_bits` fractional bits when
    given (0 keeps integers at the binary point instead of a negative one)."""
    distinct = [v for v in np.unique(np.asarray(values, dtype=np.float64)).tolist() if v != 0]
    signed = any(v < 0 for v in distinct) if signed is None else signed
    if not distinct:
        return FixedType(1, 1, signed)
    frac_bits = max(_frac_bits_needed(v) for v in distinct)
    if min_frac_bits is not None:
        frac_bits = max(frac_bits, min_frac_bits)
    codes = [int(v * 2.0**frac_bits) for v in distinct]
    width = max(code.bit_length() if code >= 0 else (-code - 1).bit_length() for code in codes) + signed
    return FixedType(max(width, 1), max(width, 1) - frac_bits, signed)


def _frac_bits_needed(value: float) -> int:
    """F such that value is an odd multiple of 2**-F (negative for even integers)."""
    numerator, denominator = value.as_integer_ratio()
    numerator = abs(numerator)
    return (denominator.bit_length() - 1) - ((numerator & -numerator).bit_length() - 1)
