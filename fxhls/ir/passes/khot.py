"""K-hot lowering: each K-hot constant gets its shift-add terms.

A K-hot value is a sum of at most K signed powers of two (see `fxhls.qfx.khot`), so
the hardware multiplies by it with K shifts and K-1 additions. The terms are the
value's non-adjacent form (NAF): the signed-digit form with the fewest nonzero
digits, unique, hence canonical. No value has a shorter form, so every value
`fxhls.qfx.khot` projects to K terms has at most K here.
"""

from __future__ import annotations

import numpy as np

from ..graph import Graph


def lower_khot(graph: Graph) -> Graph:
    """For every constant with `facts["khot"] = K`, set `facts["terms"] = (signs,
    exponents)`: int64 arrays of shape (*data.shape, K), term j of a value being
    `signs[..., j] * 2**exponents[..., j]`, largest exponent first, sign 0 (and
    exponent 0) for an unused term. Raises `ValueError` naming the tensor when a
    value is not K-hot. Returns `graph`."""
    for name, tensor in graph.tensors.items():
        if tensor.data is None or "khot" not in tensor.facts:
            continue
        if tensor.type is None:
            raise ValueError(f"constant {name!r}: K-hot lowering needs its fixed-point type (run fold_constants)")
        tensor.facts["terms"] = khot_terms(tensor.data, tensor.type.frac_bits, int(tensor.facts["khot"]), name)
    return graph


def khot_terms(values: np.ndarray, frac_bits: int, k: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(signs, exponents) of shape (*values.shape, k): the NAF terms of `values`
    (multiples of 2**-frac_bits), largest first, checked to sum exactly to `values`."""
    scaled = values * 2.0**frac_bits
    codes = scaled.astype(np.int64)
    if not (codes == scaled).all():
        raise ValueError(f"constant {name!r}: values are not multiples of 2**-{frac_bits}, its type's lsb")
    digits = non_adjacent_form(codes)
    counts = (digits != 0).sum(-1)
    if (counts > k).any():
        worst = int(counts.argmax())
        raise ValueError(f"constant {name!r} is marked {k}-hot, but its value {values.flatten()[worst].item()} "
                         f"needs {int(counts.flatten()[worst])} signed powers of two")
    positions = np.broadcast_to(np.arange(digits.shape[-1], dtype=np.int64), digits.shape)
    used_positions = np.where(digits != 0, positions, -1)
    slots = min(k, digits.shape[-1])
    # largest position first; unused (-1) last
    order = np.flip(np.argsort(used_positions, axis=-1, kind="stable"), axis=-1)[..., :slots]
    signs = np.take_along_axis(digits, order, -1)
    exponents = np.where(signs != 0, np.take_along_axis(positions, order, -1) - frac_bits, 0)
    padding = np.zeros((*values.shape, k - slots), dtype=np.int64)
    signs, exponents = np.concatenate([signs, padding], -1), np.concatenate([exponents, padding], -1)
    total = (signs * np.ldexp(1.0, exponents)).sum(-1)
    assert (total == values).all(), f"K-hot terms of {name!r} do not sum to its values"
    return signs, exponents


def non_adjacent_form(codes: np.ndarray) -> np.ndarray:
    """The digits (-1, 0, +1; position i weighs 2**i) of each integer code's
    non-adjacent form, shape (*codes.shape, positions)."""
    remaining, digits = codes.copy(), []
    while (remaining != 0).any() or not digits:
        digit = (remaining & 1) * (2 - (remaining & 3))  # +1 where remaining = 1 mod 4, -1 where 3 mod 4
        digits.append(digit)
        remaining = (remaining - digit) >> 1
    return np.stack(digits, axis=-1)
