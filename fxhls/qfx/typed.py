"""Carrying a tensor's fixed-point type from one QFX layer to the next.

A QFX layer tags its output with the `FixedType` its values belong to, so the
next layer knows its input type (to derive an exact accumulator, for example).
Shape-only ops (flatten, pooling by max) pass the tag on through `tag`.
"""

from __future__ import annotations

import torch

from fxhls.fixed import FixedType
from fxhls.fixed.formats import fits_exactly

_ATTRIBUTE = "_fxhls_type"


def tag(x: torch.Tensor, t: FixedType) -> torch.Tensor:
    """Record that the values of `x` belong to `t`; returns `x`."""
    setattr(x, _ATTRIBUTE, t)
    return x


def type_of(x: torch.Tensor) -> FixedType | None:
    """The type a QFX layer tagged `x` with, or None for an untagged tensor."""
    return getattr(x, _ATTRIBUTE, None)


def exact_dtype(result: FixedType | None, dtype: torch.dtype) -> torch.dtype:
    """`dtype` if every value of `result` (a type wide enough for a computation's exact
    result) is exact in it, float64 otherwise or when the type is unknown."""
    return dtype if result is not None and fits_exactly(result, dtype) else torch.float64
