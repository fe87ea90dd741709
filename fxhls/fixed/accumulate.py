"""Accumulation in HLS order, exact at any width: `dot`, `dot_with_bias`, `dot_codes`.

`acc_t s = 0; for (k) s += a[k] * b[k];` rounds and overflows every partial sum into
`acc`. Three ways give the same result, the first that is exact is taken:
- at once in float64 (the fast path): the values prove that `acc` never rounds nor
  overflows, and every product and partial sum fits float64's 53 bits;
- step by step in float64: `acc` fits float64, and so does every partial sum plus a product;
- step by step (or at once, as above) in integer codes (`fxhls.fixed.codes`): int64,
  or Python ints beyond, at any width the headers allow.

`dot` and `dot_with_bias` take numpy arrays or PyTorch tensors (as arrays, and the result
comes back as a tensor: `tensors_as_arrays`): one implementation for the emulator and
for QFX training.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .codes import cast_codes, from_codes, integer_array, to_codes
from .formats import code_bounds, fits_exactly, require_float
from .quantize import quantize_array
from .tensor_boundary import tensors_as_arrays
from .types import FixedType

_FLOAT64_SIGNIFICAND = 53


@tensors_as_arrays
def dot(a, b, acc: FixedType | str, out: FixedType | str | None = None):
    """Exactly `acc_t s = 0; for (k) s += a[k] * b[k];` along the last dimension, then
    `out_t r = s;` when `out` is given.

    `a` and `b` hold fixed-point values (for instance outputs of `quantize`) and
    broadcast over their leading dimensions. Every step rounds and overflows the
    sum into `acc`, so a rounding or saturating accumulator gives the C++ result
    of that order. Exact for any `acc` and products, at any width (see the module).
    The result type, `out` or else `acc`, must fit float64 (53 bits): a wider
    accumulator is cast through `out` (or read as codes: `dot_codes`).

    `a` and `b` are numpy arrays, or PyTorch tensors (the result is then a tensor on
    a's device). The result has the inputs' dtype if the result type fits it exactly,
    float64 otherwise. Not differentiable (it is the reference for the hardware, not a
    training op).
    """
    acc = FixedType.parse(acc)
    result = acc if out is None else FixedType.parse(out)
    if not fits_exactly(result, np.float64):
        raise ValueError(f"dot: the result type {result} does not fit float64 (53 bits); "
                         "pass `out`, the type of at most 53 bits the sum is cast to")
    dtype = np.result_type(a.dtype, b.dtype)
    require_float(dtype)
    a, b = a.astype(np.float64), b.astype(np.float64)
    facts = _facts(a, b, acc)
    total = _in_float64(facts, acc)
    if total is None:
        total = from_codes(cast_codes(_codes(a, b, acc, facts), acc.frac_bits, result), result.frac_bits)
    elif result != acc:
        total = quantize_array(total, result)
    return total.astype(dtype) if fits_exactly(result, dtype) else total


def dot_codes(a: np.ndarray, b: np.ndarray, acc: FixedType | str) -> np.ndarray:
    """`dot` (without `out`) as the integer codes of `acc` (`value * 2**acc.frac_bits`),
    computed in integers at any width: an int64 array, or an object array of Python
    ints where int64 cannot hold them. `a` and `b`: float32 or float64 numpy arrays."""
    acc = FixedType.parse(acc)
    require_float(np.result_type(a.dtype, b.dtype))
    a, b = a.astype(np.float64), b.astype(np.float64)
    return _codes(a, b, acc, _facts(a, b, acc))


@tensors_as_arrays
def dot_with_bias(x, w, bias, acc: FixedType | str, out: FixedType | str | None = None):
    """For every output o: `acc_t s = bias[o]; for (k) s += w[o, k] * x[..., k];` (the HLS
    order of a dense layer; via `dot`), then `out_t r = s;` when `out` is given. x is
    (..., K), w is (O, K), the result (..., O); numpy arrays, or PyTorch tensors (as for
    `dot`). `bias` may be None."""
    x = x[..., None, :]
    if bias is not None:
        x = np.concatenate([np.ones((*x.shape[:-1], 1), dtype=x.dtype), x], axis=-1)
        w = np.concatenate([bias[:, None], w], axis=-1)
    return dot(x, w, acc, out)


class _Facts(NamedTuple):
    """What the values of a and b prove about their accumulation into an accumulator."""

    a_span: tuple[int, int]  # see `_bit_span`
    b_span: tuple[int, int]
    products: np.ndarray  # a * b in float64, exact when `products_exact`
    products_exact: bool
    at_once: bool  # the accumulator never rounds nor overflows: the sum may be taken in any order
    sum_high: int  # every partial sum is below 2**sum_high in magnitude

    @property
    def product_low(self) -> int:
        return self.a_span[0] + self.b_span[0]

    @property
    def product_high(self) -> int:
        return self.a_span[1] + self.b_span[1]


def _facts(a: np.ndarray, b: np.ndarray, acc: FixedType) -> _Facts:
    a_span, b_span = _bit_span(a), _bit_span(b)
    products = a * b
    bound = products.shape[-1] * _abs_max(a) * _abs_max(b)  # no partial sum is larger in magnitude
    low, high = _value_bounds(acc)
    never_rounds = a_span[0] + b_span[0] >= -acc.frac_bits
    never_overflows = bound <= high and (-bound >= low or bool((products >= 0).all()))
    products_exact = (a_span[1] - a_span[0]) + (b_span[1] - b_span[0]) <= _FLOAT64_SIGNIFICAND
    sum_high = bound.numerator.bit_length() - bound.denominator.bit_length() + 1
    return _Facts(a_span, b_span, products, products_exact, never_rounds and never_overflows, sum_high)


@lru_cache(maxsize=4096)
def _value_bounds(acc: FixedType) -> tuple[Fraction, Fraction]:
    """The lowest and highest value `acc` saturates to, exactly."""
    return tuple(Fraction(code) * Fraction(2) ** -acc.frac_bits for code in code_bounds(acc))


def _in_float64(facts: _Facts, acc: FixedType) -> np.ndarray | None:
    """The accumulated values of `acc` in float64, or None when float64 could not hold a step."""
    if not facts.products_exact:
        return None
    if facts.at_once:
        if fits_exactly(acc, np.float64) or facts.sum_high - facts.product_low <= _FLOAT64_SIGNIFICAND:
            return np.asarray(facts.products.sum(-1))
        return None
    top = max(acc.int_bits, facts.product_high) + 1
    if not fits_exactly(acc, np.float64) or top - min(-acc.frac_bits, facts.product_low) > _FLOAT64_SIGNIFICAND:
        return None
    total = np.zeros(facts.products.shape[:-1], dtype=np.float64)
    for k in range(facts.products.shape[-1]):
        total = quantize_array(total + facts.products[..., k], acc)
    return total


def _codes(a: np.ndarray, b: np.ndarray, acc: FixedType, facts: _Facts) -> np.ndarray:
    """The accumulated codes of `acc`, in integers."""
    (a_low, a_high), (b_low, b_high) = facts.a_span, facts.b_span
    product_bits = (a_high - a_low) + (b_high - b_low)
    a_codes, b_codes = to_codes(a, -a_low), to_codes(b, -b_low)
    products = integer_array(a_codes, product_bits) * integer_array(b_codes, product_bits)
    if facts.at_once:
        length_bits = products.shape[-1].bit_length()
        sums = integer_array(products, product_bits + length_bits).sum(-1)
        return cast_codes(np.asarray(sums), -facts.product_low, acc)
    common = max(acc.frac_bits, -facts.product_low)  # partial sums and products are integers at 2**-common
    bits = max(acc.width + common - acc.frac_bits, facts.product_high + common) + 1
    products = integer_array(products, bits) << (common + facts.product_low)
    total = np.zeros(products.shape[:-1], dtype=products.dtype)
    for k in range(products.shape[-1]):
        total = cast_codes((integer_array(total, bits) << (common - acc.frac_bits)) + products[..., k], common, acc)
    return total


def _abs_max(values: np.ndarray) -> Fraction:
    return Fraction(float(np.abs(values).max())) if values.size else Fraction(0)


def _bit_span(values: np.ndarray) -> tuple[int, int]:
    """`(low, high)`: every value is a multiple of `2**low` and below `2**high` in magnitude."""
    nonzero = values[values != 0]
    if nonzero.size == 0:
        return 0, 0
    mantissa, exponent = np.frexp(nonzero)  # |mantissa| in [0.5, 1)
    integer = (np.abs(mantissa) * 2.0**_FLOAT64_SIGNIFICAND).astype(np.int64)
    _, lowest_bit = np.frexp((integer & -integer).astype(np.float64))  # 2**t has frexp exponent t+1
    low = int((exponent + lowest_bit - 1 - _FLOAT64_SIGNIFICAND).min())
    return low, int(exponent.max())
