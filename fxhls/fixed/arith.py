"""Arithmetic on fixed-point values: C++ result types, and accumulation in HLS order.

`dot` and `dot_with_bias` compute on numpy arrays; PyTorch tensors pass through them
as arrays and come back as tensors (`tensors_as_arrays`): one implementation for the
emulator and for QFX training.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

from .formats import check_exact, require_float
from .quantize import quantize_array
from .tensor_boundary import tensors_as_arrays
from .types import FixedType

_FLOAT64_SIGNIFICAND = 53


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


@tensors_as_arrays
def dot(a, b, acc: FixedType | str):
    """Exactly `acc_t s = 0; for (k) s += a[k] * b[k];` along the last dimension.

    `a` and `b` hold fixed-point values (for instance outputs of `quantize`) and
    broadcast over their leading dimensions. Every step rounds and overflows the
    sum into `acc`, so a rounding or saturating accumulator gives the C++ result
    of that order. When the values prove that `acc` never rounds nor overflows,
    the sum is taken at once (a fast path with the same result).

    `a` and `b` are numpy arrays, or PyTorch tensors (the result is then a tensor on
    a's device). The result has the inputs' dtype if `acc` fits it exactly, float64
    otherwise. Raises `ValueError` when a product or partial sum would not be exact in
    float64. Not differentiable (it is the reference for the hardware, not a training op).
    """
    acc = FixedType.parse(acc)
    check_exact(acc, np.float64)
    dtype = np.result_type(a.dtype, b.dtype)
    require_float(dtype)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    a_low, a_high = _bit_span(a64)
    b_low, b_high = _bit_span(b64)
    if (a_high - a_low) + (b_high - b_low) > _FLOAT64_SIGNIFICAND:
        raise ValueError("dot: the products of these values are not exact in float64 (more than 53 bits)")
    products = a64 * b64
    product_low, product_high = a_low + b_low, a_high + b_high
    length = products.shape[-1]
    bound = length * _abs_max(a64) * _abs_max(b64)  # no partial sum is larger in magnitude
    never_rounds = product_low >= -acc.frac_bits
    never_overflows = bound <= acc.max and (-bound >= acc.min or bool((products >= 0).all()))
    if never_rounds and never_overflows:
        total = np.asarray(products.sum(-1))
    else:
        top = max(acc.int_bits, product_high) + 1
        if top - min(-acc.frac_bits, product_low) > _FLOAT64_SIGNIFICAND:
            raise ValueError(f"dot: a partial sum in {acc} plus a product is not exact in float64")
        total = np.zeros(products.shape[:-1], dtype=np.float64)
        for k in range(length):
            total = quantize_array(total + products[..., k], acc)
    try:
        check_exact(acc, dtype)
    except ValueError:
        return total
    return total.astype(dtype)


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


@tensors_as_arrays
def dot_with_bias(x, w, bias, acc: FixedType | str):
    """For every output o: `acc_t s = bias[o]; for (k) s += w[o, k] * x[..., k];` (the HLS
    order of a dense layer; via `dot`). x is (..., K), w is (O, K), the result (..., O);
    numpy arrays, or PyTorch tensors (as for `dot`). `bias` may be None."""
    x = x[..., None, :]
    if bias is not None:
        x = np.concatenate([np.ones((*x.shape[:-1], 1), dtype=x.dtype), x], axis=-1)
        w = np.concatenate([bias[:, None], w], axis=-1)
    return dot(x, w, acc)


def reciprocal(count: int, t: FixedType) -> float:
    """1/count as the hardware multiplies by it to average `count` values: exact for a
    power of two (a shift), otherwise quantized to `t`."""
    exact = 1.0 / count
    if count & (count - 1) == 0:
        return exact
    return float(quantize_array(np.array([exact]), t)[0])
