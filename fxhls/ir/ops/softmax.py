"""Softmax over the channels of a sample (a vector's values, or each pixel's channels).

The algorithm, in integer codes (the emulator here, the C++ in templates/hls/layers/softmax.h
and the Verilog in templates/rtl/fxhls_softmax.v compute it alike):
1. m = the largest input code of the pixel; k_c = m - x_c, exact (0 <= k_c < 2^W of the input).
2. e_c = EXP[min(k_c, N - 1)]: entry k is exp(-k * lsb) (float64) quantized to the `exp_type`
   (`fxhls.fixed.quantize`), k = 0 .. N - 1. Entries fall with k; the table ends at its first
   0 (every larger difference reads it) or at the end of the difference grid (2^W entries).
3. S = sum of the e_c, exact (an exp_type grown by ceil(log2 C) bits).
4. s = S cast to the `sum_type` (its rounding and overflow, C++ `sum_t s = S;`).
5. r = RECIPROCAL[s - lo]: entry j is 1 / ((lo + j) * lsb) quantized to the
   `reciprocal_type`, for the codes lo .. hi that s can take (lo the cast of EXP[0], the
   sum when only the largest value counts; hi the cast of C * EXP[0], when all are equal).
6. y_c = e_c * r, exact, cast to the output type.

Attributes: the output type (`type_attrs`) and `exp_type`, `sum_type`, `reciprocal_type`
(spellings); the import fills each one left out with `default_types`. Refused in one line:
a table of more than `MAX_ENTRIES` entries (with the size and the options), an exp type that
does not hold exp(0) = 1, a sum type that does not hold C * EXP[0] (both without saturation).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fxhls.fixed import FixedType, quantize
from fxhls.fixed.codes import cast_codes, to_codes

from .quantize import node_type
from .table import MAX_INPUT_BITS

MAX_ENTRIES = 1 << MAX_INPUT_BITS  # per table, as for an element-wise Table
INTERNAL_TYPES = ("exp_type", "sum_type", "reciprocal_type")
_SATURATING = ("AP_SAT", "AP_SAT_SYM")


@dataclass(frozen=True)
class SoftmaxTypes:
    """The types of one Softmax: its input, its internal types, its output; `classes` C."""

    x: FixedType
    exp: FixedType
    sum: FixedType
    reciprocal: FixedType
    out: FixedType
    classes: int

    @property
    def exact_sum(self) -> FixedType:
        """A type that holds any sum of C exp entries exactly."""
        growth = (self.classes - 1).bit_length()
        return FixedType(self.exp.width + growth, self.exp.int_bits + growth, False)


def default_output_type(x_type: FixedType) -> FixedType:
    """The output type of a Softmax nothing types (one after a quantizer): as wide as its
    input, unsigned, one integer bit (probabilities reach 1), rounding and saturating."""
    return FixedType(max(x_type.width, 2), 1, False, "AP_RND", "AP_SAT")


def default_types(out_type: FixedType, classes: int) -> dict[str, FixedType]:
    """The internal types left out, from the output's fractional bits F (at least 1) and C:
    exp and reciprocal ap_ufixed<F+3,1,AP_RND,AP_SAT> (two guard bits below the output's
    lsb), sum ap_ufixed<B+G,B,AP_RND,AP_SAT> with B the bits of C (it holds C * exp(0)) and
    G = F, or fewer where the reciprocal table's (C - 1) * 2^G + 1 entries would pass MAX_ENTRIES."""
    frac = max(out_type.frac_bits, 1)
    fraction = FixedType(frac + 3, 1, False, "AP_RND", "AP_SAT")
    int_bits = classes.bit_length()
    sum_frac = frac
    while sum_frac > 0 and (classes - 1) * (1 << sum_frac) + 1 > MAX_ENTRIES:
        sum_frac -= 1
    return {"exp_type": fraction, "sum_type": FixedType(int_bits + sum_frac, int_bits, False, "AP_RND", "AP_SAT"),
            "reciprocal_type": fraction}


def softmax_types(node, x_type: FixedType, classes: int) -> SoftmaxTypes:
    """The types of Softmax `node` whose input is of `x_type` with C = `classes`."""
    given = {name: FixedType.parse(node.attrs[name]) for name in INTERNAL_TYPES if name in node.attrs}
    internal = {**default_types(node_type(node.attrs), classes), **given}
    return SoftmaxTypes(x_type, internal["exp_type"], internal["sum_type"], internal["reciprocal_type"],
                        node_type(node.attrs), classes)


@lru_cache(maxsize=32)
def exp_entries(x_type: FixedType, exp_type: FixedType) -> np.ndarray:
    """EXP as codes of `exp_type` (int64): entry k for the difference of k input codes,
    up to the first 0 or the 2^W differences; a ValueError when it needs more than MAX_ENTRIES."""
    grid = 1 << x_type.width

    def entry(k: np.ndarray) -> np.ndarray:
        with np.errstate(under="ignore"):
            return quantize(np.exp(-np.asarray(k, dtype=np.float64) * x_type.lsb), exp_type)

    if entry(np.array([0]))[0] <= 0:
        raise ValueError(f"the exp type {exp_type} does not hold exp(0) = 1 (give a type with an integer bit, "
                         f"or a saturating one)")
    size = grid if entry(np.array([grid - 1]))[0] > 0 else _first_zero(entry, grid) + 1
    if size > MAX_ENTRIES:
        raise ValueError(f"its exp table over the differences of {x_type} would hold {size:,} entries of {exp_type} "
                         f"(the limit is {MAX_ENTRIES:,}); give it fewer: a narrower input type (fewer fractional "
                         f"bits; a config output type for the layer before it) or a narrower config exp type")
    codes = to_codes(entry(np.arange(size)), exp_type.frac_bits).astype(np.int64)
    if (np.diff(codes) > 0).any():
        raise ValueError(f"the exp type {exp_type} wraps or zeroes exp near 1; give a saturating one or one that "
                         f"holds 1")
    codes.setflags(write=False)
    return codes


def _first_zero(entry, grid: int) -> int:
    """The first k < grid whose entry is 0 (entries fall with k; entry(grid - 1) is 0)."""
    low, high = 0, grid - 1
    while low < high:
        middle = (low + high) // 2
        if entry(np.array([middle]))[0] > 0:
            low = middle + 1
        else:
            high = middle
    return low


def sum_range(types: SoftmaxTypes) -> tuple[int, int]:
    """(lo, hi): the codes of the sum type that the cast sum can take."""
    top = int(exp_entries(types.x, types.exp)[0])
    lo, hi = (int(cast_codes(np.array(top * n), types.exp.frac_bits, types.sum)) for n in (1, types.classes))
    return lo, hi


@lru_cache(maxsize=32)
def reciprocal_entries(types: SoftmaxTypes) -> np.ndarray:
    """RECIPROCAL as codes of the reciprocal type (int64): entry j is 1/s for the sum code lo + j."""
    exp_entries(types.x, types.exp)  # its refusals first
    top = int(exp_entries(types.x, types.exp)[0]) * types.classes
    if types.sum.overflow not in _SATURATING and types.sum.max < top * types.exp.lsb:
        raise ValueError(f"the sum type {types.sum} does not hold the largest sum ({types.classes} x exp(0)); "
                         f"give one with more integer bits, or a saturating one")
    lo, hi = sum_range(types)
    if types.reciprocal.overflow not in _SATURATING and lo > 0 and types.reciprocal.max < 1.0 / (lo * types.sum.lsb):
        raise ValueError(f"the reciprocal type {types.reciprocal} does not hold the largest reciprocal "
                         f"(1 / {lo * types.sum.lsb:g}); give one with more integer bits, or a saturating one")
    if lo <= 0:
        raise ValueError(f"the sum type {types.sum} casts exp(0) to 0; give it more fractional bits")
    if hi - lo + 1 > MAX_ENTRIES:
        raise ValueError(f"its reciprocal table over the sums {lo * types.sum.lsb:g} .. {hi * types.sum.lsb:g} in "
                         f"{types.sum} would hold {hi - lo + 1:,} entries (the limit is {MAX_ENTRIES:,}); give a "
                         f"config sum type with fewer fractional bits")
    sums = np.arange(lo, hi + 1, dtype=np.float64) * types.sum.lsb
    codes = to_codes(quantize(1.0 / sums, types.reciprocal), types.reciprocal.frac_bits).astype(np.int64)
    codes.setflags(write=False)
    return codes


def check(types: SoftmaxTypes) -> None:
    """A ValueError (one line, the node not named) unless both tables can be built and the
    product e * r fits the emulator's integers."""
    reciprocal_entries(types)
    if types.exp.width + types.reciprocal.width > 62:
        raise ValueError(f"the product of {types.exp} and {types.reciprocal} is wider than 62 bits; narrow them")


def softmax_codes(x_codes: np.ndarray, types: SoftmaxTypes) -> np.ndarray:
    """The output codes for input codes (int64, batch first, channels on axis 1)."""
    exp = exp_entries(types.x, types.exp)
    reciprocal = reciprocal_entries(types)
    lo, _ = sum_range(types)
    differences = np.minimum(x_codes.max(axis=1, keepdims=True) - x_codes, len(exp) - 1)
    e = exp[differences]
    s = cast_codes(e.sum(axis=1, keepdims=True), types.exp.frac_bits, types.sum).astype(np.int64)
    r = reciprocal[s - lo]
    return cast_codes(e * r, types.exp.frac_bits + types.reciprocal.frac_bits, types.out).astype(np.int64)


def table_sizes(types: SoftmaxTypes) -> dict[str, int]:
    """Entries of the exp table (each channel reads one) and of the reciprocal table (one per pixel)."""
    return {"exp": len(exp_entries(types.x, types.exp)), "reciprocal": len(reciprocal_entries(types))}


def _types(node, x) -> SoftmaxTypes:
    if x.type is None:
        raise ValueError("a Softmax needs a fixed-point input type")
    if len(x.shape) not in (1, 3):
        raise ValueError(f"a Softmax over a tensor of shape {list(x.shape)}; supported: over the values of a "
                         f"vector (C,) or the channels of each pixel of an image (C, H, W)")
    types = softmax_types(node, x.type, x.shape[0])
    check(types)
    return types


class Softmax:
    reads_types = True

    @staticmethod
    def infer(node, inputs):
        return [(inputs[0].shape, _types(node, inputs[0]).out)]

    @staticmethod
    def execute(node, values, types=None):
        x = values[0]
        in_type = types[0] if types else None
        if in_type is None:
            raise ValueError(f"node {node.name!r}: a Softmax needs a fixed-point input type")
        softmax = softmax_types(node, in_type, x.shape[1])
        codes = np.rint(x / in_type.lsb).astype(np.int64)
        return [np.ldexp(softmax_codes(codes, softmax).astype(np.float64), -softmax.out.frac_bits)]


OPS = {"Softmax": Softmax}

