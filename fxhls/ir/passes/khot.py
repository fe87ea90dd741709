"""K-hot lowering: each K-hot constant gets its shift-add terms.

A K-hot value is a sum of at most K signed powers of two (see `fxhls.qfx.khot`), so
the hardware multiplies by it with K shifts and K-1 additions. The terms are the
value's non-adjacent form (NAF): the signed-digit form with the fewest nonzero
digits, unique, hence canonical. No value has a shorter form, so every value
`fxhls.qfx.khot` projects to K terms has at most K here.
"""

from __future__ import annotations

import torch

from ..graph import Graph


def lower_khot(graph: Graph) -> Graph:
    """For every constant with `facts["khot"] = K`, set `facts["terms"] = (signs,
    exponents)`: int64 tensors of shape (*data.shape, K), term j of a value being
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


def khot_terms(values: torch.Tensor, frac_bits: int, k: int, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(signs, exponents) of shape (*values.shape, k): the NAF terms of `values`
    (multiples of 2**-frac_bits), largest first, checked to sum exactly to `values`."""
    scaled = values.to(torch.float64) * 2.0**frac_bits
    codes = scaled.to(torch.int64)
    if not bool((codes.to(torch.float64) == scaled).all()):
        raise ValueError(f"constant {name!r}: values are not multiples of 2**-{frac_bits}, its type's lsb")
    digits = non_adjacent_form(codes)
    counts = (digits != 0).sum(-1)
    if bool((counts > k).any()):
        worst = int(counts.argmax())
        raise ValueError(f"constant {name!r} is marked {k}-hot, but its value {values.flatten()[worst].item()} "
                         f"needs {int(counts.flatten()[worst])} signed powers of two")
    positions = torch.arange(digits.shape[-1], dtype=torch.int64).expand_as(digits)
    used_positions = torch.where(digits != 0, positions, -1)
    slots = min(k, digits.shape[-1])
    order = used_positions.topk(slots, dim=-1).indices  # largest position first; unused (-1) last
    signs = digits.gather(-1, order)
    exponents = torch.where(signs != 0, positions.gather(-1, order) - frac_bits, 0)
    padding = torch.zeros((*values.shape, k - slots), dtype=torch.int64)
    signs, exponents = torch.cat([signs, padding], -1), torch.cat([exponents, padding], -1)
    total = (signs.to(torch.float64) * torch.pow(2.0, exponents.to(torch.float64))).sum(-1)
    assert bool((total == values).all()), f"K-hot terms of {name!r} do not sum to its values"
    return signs, exponents


def non_adjacent_form(codes: torch.Tensor) -> torch.Tensor:
    """The digits (-1, 0, +1; position i weighs 2**i) of each integer code's
    non-adjacent form, shape (*codes.shape, positions)."""
    remaining, digits = codes.clone(), []
    while bool((remaining != 0).any()) or not digits:
        digit = (remaining & 1) * (2 - (remaining & 3))  # +1 where remaining = 1 mod 4, -1 where 3 mod 4
        digits.append(digit)
        remaining = (remaining - digit) >> 1
    return torch.stack(digits, dim=-1)
