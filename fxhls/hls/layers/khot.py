"""K-hot weights in the HLS backend: their shift-add terms as C++ constants, and the
type the shifts happen in."""

from __future__ import annotations

import numpy as np

from fxhls.fixed import FixedType
from fxhls.ir.graph import Tensor


def khot_terms(weights: Tensor, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(signs, exponents) of a K-hot constant, from `lower_khot`; ValueError when missing."""
    if "terms" not in weights.facts:
        raise ValueError(f"constant {name!r} is K-hot but has no shift-add terms; run lower_khot "
                         "(fxhls.ir.passes.lower_for_hardware) before the HLS backend")
    return weights.facts["terms"]


def term_type(x: FixedType, exponents: np.ndarray) -> FixedType:
    """A signed type holding x * 2**e exactly for every exponent e, and every partial sum
    of a K-hot product (largest term first: each below twice the largest term)."""
    high, low = int(exponents.max()), int(exponents.min())
    int_bits = x.int_bits + max(high, 0) + 2
    frac_bits = x.frac_bits + max(-low, 0)
    return FixedType(int_bits + frac_bits, int_bits)


def term_rows(signs: np.ndarray, exponents: np.ndarray) -> list:
    """The terms as nested lists of (sign, shift) pairs, the shape of the C++ array
    `khot_term terms[...][K]`."""
    pairs = np.stack([signs, exponents], axis=-1)
    return pairs.tolist()
