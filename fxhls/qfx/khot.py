"""K-hot quantization: every value a sum of at most K signed powers of two.

The powers are distinct bit positions of the weight's word, so a K-hot code is
one whose signed-digit form (digits -1, 0, +1 at positions 0 .. width-1) has at
most K nonzero digits.

A multiply by such a weight is K shifts and K-1 additions, so the hardware needs
no DSP for it. The projection is exact and deterministic: the nearest K-hot value
of the weight's fixed-point type, ties toward the smaller magnitude.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import torch

from fxhls.fixed import FixedType
from fxhls.fixed.quantize import quantize_values


def khot_projection(k: int):
    """A projection for `FixedQuantizer(project=...)`: values of type t -> nearest K-hot values
    of t, with a straight-through gradient. K=1 is power-of-two quantization."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"K-hot needs an integer K >= 1, got {k!r}")

    def project(values: torch.Tensor, t: FixedType) -> torch.Tensor:
        nearest = nearest_khot(values.detach(), t, k)
        return values + (nearest - values).detach()

    return project


def nearest_khot(values: torch.Tensor, t: FixedType, k: int) -> torch.Tensor:
    """For values already of type t: the nearest value of t that has at most k signed
    powers of two; ties go to the smaller magnitude."""
    codes = khot_codes(t, k).to(device=values.device)
    scaled = values.double() * 2.0**t.frac_bits
    upper = torch.searchsorted(codes, scaled).clamp(1, len(codes) - 1)
    below, above = codes[upper - 1], codes[upper]
    take_above = (above - scaled < scaled - below) | (
        (above - scaled == scaled - below) & (above.abs() < below.abs())
    )
    nearest = torch.where(take_above, above, below).clamp(codes[0], codes[-1])
    return (nearest * 2.0**-t.frac_bits).to(values.dtype)


@lru_cache(maxsize=None)
def khot_codes(t: FixedType, k: int) -> torch.Tensor:
    """All integer codes of t (sorted, float64) that are sums of at most k terms +-2**j
    with distinct j among the word's bit positions 0 .. width-1."""
    codes = {0}
    for count in range(1, min(k, t.width) + 1):
        for positions in itertools.combinations(range(t.width), count):
            for signs in itertools.product((1, -1), repeat=count):
                codes.add(sum(sign << j for sign, j in zip(signs, positions)))
    candidates = torch.tensor(sorted(codes), dtype=torch.float64)
    representable = quantize_values(candidates * t.lsb, t) == candidates * t.lsb
    return candidates[representable]
