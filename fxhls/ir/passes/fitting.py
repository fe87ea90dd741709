"""The narrowest fixed-point type of a constant, from its values."""

from __future__ import annotations

import torch

from fxhls.fixed import FixedType


def fitting_type(values: torch.Tensor, signed: bool | None = None) -> FixedType:
    """The narrowest type (default modes) that holds every value of `values` exactly,
    with no fewer than 0 fractional bits; signed when a value is negative, or as
    `signed` says."""
    signed = bool((values < 0).any()) if signed is None else signed
    distinct = values.to(torch.float64).unique().tolist()
    frac_bits = max(value.as_integer_ratio()[1].bit_length() - 1 for value in distinct)
    codes = [int(value * 2.0**frac_bits) for value in distinct]
    magnitude_bits = max((code if code >= 0 else -code - 1).bit_length() for code in codes)
    width = max(magnitude_bits + signed, 1)
    return FixedType(width, width - frac_bits, signed)
