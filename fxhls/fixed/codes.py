"""Fixed-point values as exact integer codes, at any width.

A value of a type T is `code * 2**-T.frac_bits`. float64 holds at most 53 significant
bits; wider sums and products are held here as integer codes: int64 arrays while every
code stays below 2**62 in magnitude, object arrays of Python ints beyond. `cast_codes`
is C++ `T r = x;` on codes: the rounding and overflow modes of `quantize`, in integers.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .formats import code_bounds
from .types import FixedType

INT64_BITS = 62  # the magnitude bits an int64 code may use: a sum of two such codes still fits


def integer_array(codes: np.ndarray, bits: int) -> np.ndarray:
    """`codes` as int64 when no code needs more than `bits` magnitude bits and `bits` fits
    int64's room, else as an object array of Python ints."""
    wanted = np.int64 if bits <= INT64_BITS else object
    return codes if codes.dtype == wanted else codes.astype(wanted)


def to_codes(values: np.ndarray, frac_bits: int) -> np.ndarray:
    """The integers `values * 2**frac_bits` (int64 or object array, see `integer_array`);
    every value must be a multiple of `2**-frac_bits`."""
    values = np.asarray(values, dtype=np.float64)
    largest = float(np.abs(values).max()) if values.size else 0.0
    if math.frexp(largest)[1] + frac_bits <= INT64_BITS:  # |code| < 2**(exponent + frac_bits)
        return np.ldexp(values, frac_bits).astype(np.int64)
    scale = Fraction(2) ** frac_bits
    return np.frompyfunc(lambda value: int(Fraction(value) * scale), 1, 1)(values).astype(object)


def from_codes(codes: np.ndarray, frac_bits: int) -> np.ndarray:
    """The float64 values `codes * 2**-frac_bits`: exact when the codes' type fits float64."""
    return np.asarray(np.ldexp(np.asarray(codes).astype(np.float64), -frac_bits))


def cast_codes(codes: np.ndarray, frac_bits: int, t: FixedType) -> np.ndarray:
    """What C++ `t r = x;` stores, as codes of `t` (at `t.frac_bits`), for the values
    `x = codes * 2**-frac_bits`: `t`'s rounding mode, then its overflow mode."""
    shift = frac_bits - t.frac_bits
    codes = _widened(np.asarray(codes), -shift if shift < 0 else 0, t)
    if shift < 0:
        codes = codes << -shift
    elif shift > 0:
        codes = rounded_shift(codes, shift, t.rounding)
    return np.asarray(_in_range(codes, t))  # an operation on 0-d object arrays gives a Python int


def _widened(codes: np.ndarray, left_shift: int, t: FixedType) -> np.ndarray:
    """Codes as Python ints when int64 cannot hold them shifted left by `left_shift` or
    cannot hold `t`'s bounds; int64 ones stay int64 otherwise."""
    if codes.dtype == object:
        return codes
    codes = np.asarray(codes, dtype=np.int64)
    largest = int(np.abs(codes).max()) if codes.size else 0
    return integer_array(codes, max(largest.bit_length() + left_shift, t.width))


def rounded_shift(codes: np.ndarray, shift: int, mode: str) -> np.ndarray:
    """`codes / 2**shift` rounded to integers with the C++ quantization `mode`."""
    if codes.dtype != object and shift >= INT64_BITS:
        codes = codes.astype(object)
    floor = codes >> shift  # arithmetic: toward -inf
    rest = codes - (floor << shift)  # in [0, 2**shift)
    up = _ROUNDS_UP[mode](codes, floor, rest, 1 << (shift - 1))
    return np.where(np.asarray(up, dtype=bool), floor + 1, floor)


# For each quantization mode: whether codes / 2**shift rounds up from `floor`, given `rest`
# (codes - floor * 2**shift) and `half` (2**(shift - 1)).
_ROUNDS_UP = {
    "AP_TRN": lambda codes, floor, rest, half: np.zeros(codes.shape, dtype=bool),
    "AP_TRN_ZERO": lambda codes, floor, rest, half: (rest != 0) & (codes < 0),
    "AP_RND": lambda codes, floor, rest, half: rest >= half,
    "AP_RND_MIN_INF": lambda codes, floor, rest, half: rest > half,
    "AP_RND_ZERO": lambda codes, floor, rest, half: (rest > half) | ((rest == half) & (codes < 0)),
    "AP_RND_INF": lambda codes, floor, rest, half: (rest > half) | ((rest == half) & (codes > 0)),
    "AP_RND_CONV": lambda codes, floor, rest, half: (rest > half) | ((rest == half) & ((floor & 1) == 1)),
}


def _in_range(codes: np.ndarray, t: FixedType) -> np.ndarray:
    """Codes brought into `t`'s range with its overflow mode."""
    low, high = code_bounds(t)
    if t.overflow == "AP_WRAP":
        offset = t.min_code
        return ((codes - offset) & ((1 << t.width) - 1)) + offset
    outside_low, outside_high = np.asarray(codes < low, bool), np.asarray(codes > high, bool)
    if t.overflow == "AP_SAT_ZERO":
        return np.where(outside_low | outside_high, 0, codes)
    return np.where(outside_low, low, np.where(outside_high, high, codes))
