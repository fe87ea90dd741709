"""Arithmetic on fixed-point types: the C++ result types, the exact accumulator, the
common type of a join, and the reciprocal an average multiplies by (accumulation
itself: `accumulate`)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .quantize import quantize_array
from .types import FixedType


def result_type(op: str, a: FixedType | str, b: FixedType | str) -> FixedType:
    """The C++ type of `a + b`, `a - b` or `a * b` (`op` is "add", "sub" or "mul").

    As `RType` in `ap_fixed_base.h`: products are exact (`W1+W2` bits, `I1+I2`
    integer bits); sums and differences get one bit of growth above the wider
    integer part, which is widened by one for an unsigned operand meeting a signed
    one. The result has the default modes (AP_TRN, AP_WRAP), as in C++.
    """
    a, b = FixedType.parse(a), FixedType.parse(b)
    if op == "mul":
        return FixedType(a.width + b.width, a.int_bits + b.int_bits, a.signed or b.signed)
    if op not in ("add", "sub"):
        raise ValueError(f"unknown op {op!r}; supported: 'add', 'sub', 'mul'")
    int_bits = 1 + max(
        a.int_bits + (b.signed and not a.signed),
        b.int_bits + (a.signed and not b.signed),
    )
    width = int_bits + max(a.frac_bits, b.frac_bits)
    return FixedType(width, int_bits, a.signed or b.signed or op == "sub")


@lru_cache(maxsize=4096)
def accumulator_type(input: FixedType, weight: FixedType, fan_in: int, bias: FixedType | None = None) -> FixedType:
    """The accumulator that holds any sum of `fan_in` products input*weight, plus a bias,
    exactly: it never rounds nor overflows (default modes)."""
    product = result_type("mul", input, weight)
    int_bits = product.int_bits + (math.ceil(math.log2(fan_in)) if fan_in > 1 else 0)
    frac_bits = product.frac_bits
    if bias is not None:
        int_bits, frac_bits = max(int_bits, bias.int_bits) + 1, max(frac_bits, bias.frac_bits)
    return FixedType(int_bits + frac_bits, int_bits)


def common_type(types) -> FixedType:
    """The least type that holds every value of each of `types` (the type a Concat joins
    them in): the most fractional bits, the most integer bits (one more for an unsigned
    type beside a signed one), signed if one is. Where one of `types` is that type, the
    first such is returned as it is (its modes too); else it has the default modes.
    Converting a value of any of `types` to it is exact: a left shift and an extension."""
    types = [FixedType.parse(t) for t in types]
    signed = any(t.signed for t in types)
    int_bits = max(t.int_bits + (signed and not t.signed) for t in types)
    frac_bits = max(t.frac_bits for t in types)
    joined = FixedType(int_bits + frac_bits, int_bits, signed)
    return next((t for t in types if (t.width, t.int_bits, t.signed) == (joined.width, int_bits, signed)), joined)


def reciprocal(count: int, t: FixedType) -> float:
    """1/count as the hardware multiplies by it to average `count` values: exact for a
    power of two (a shift), otherwise quantized to `t`."""
    exact = 1.0 / count
    if count & (count - 1) == 0:
        return exact
    return float(quantize_array(np.array([exact]), t)[0])
