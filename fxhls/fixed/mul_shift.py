"""Requantization by multiply and shift, on integers, as the hardware computes it.

code = clamp(round((x * multiplier + bias) / 2^shift), low, high): x an integer (an
accumulator's code), the division by 2^shift rounded as an `ap_fixed` cast with
`rounding` rounds (AP_TRN: the arithmetic shift `>>`, the floor; AP_RND_CONV: ties to
even; AP_RND_INF: ties away from zero; AP_RND_ZERO: ties toward zero), then the clamp to
[low, high]. Exact at any width: int64 while the sum fits, Python ints beyond.
Exceptions (`exception_corrections`): ranges [first, last] of x, each with a correction of
+1 or -1 that the code takes where x lies in it (the ranges of a channel never overlap).
`fxhls.ir.requantize_mul_shift` derives the constants from a float chain.
"""

from __future__ import annotations

import numpy as np

from .codes import integer_array, rounded_shift

MUL_SHIFT_ROUNDING = ("AP_TRN", "AP_RND_CONV", "AP_RND_INF", "AP_RND_ZERO")


def mul_shift_codes(x: np.ndarray, multiplier, bias, shift: int, low, high, rounding: str = "AP_TRN") -> np.ndarray:
    """clamp(round((x * multiplier + bias) / 2^shift), low, high) for integer codes `x`
    (int64 or Python ints) and integer constants that broadcast against them."""
    if rounding not in MUL_SHIFT_ROUNDING:
        raise ValueError(f"a multiply-and-shift rounds with one of {', '.join(MUL_SHIFT_ROUNDING)}, not {rounding!r}")
    x = np.asarray(x)
    constants = [np.asarray(c, dtype=object) for c in (multiplier, bias, low, high)]
    largest = max([int(np.abs(x).max()) if x.size else 0] + [max(map(abs, c.ravel().tolist()), default=0)
                                                            for c in constants])
    bits = 2 * largest.bit_length() + 2  # the product and the bias's sum
    x = integer_array(x if x.dtype == object else x.astype(np.int64), bits)
    multiplier, bias, low, high = (integer_array(c, bits) for c in constants)
    total = x * multiplier + bias
    scaled = rounded_shift(total, shift, rounding) if shift else total
    return np.minimum(np.maximum(scaled, low), high)


def exception_corrections(x: np.ndarray, first: np.ndarray, last: np.ndarray, correction: np.ndarray) -> np.ndarray:
    """The correction (int64) of the exception range each integer code of `x` falls in, 0
    where none: `first`, `last` and `correction` broadcast against x with one more axis
    (the ranges), padding ranges having correction 0."""
    x = np.asarray(x)
    x = x if x.dtype == object else x.astype(np.int64)
    total = np.zeros(np.broadcast_shapes(x.shape, np.shape(first)[:-1]), dtype=np.int64)
    for k in range(np.shape(first)[-1]):
        inside = (x >= first[..., k]) & (x <= last[..., k])
        total += inside * np.asarray(correction[..., k], dtype=np.int64)
    return total
