"""Accumulators wider than the emulator's float64 values.

The emulator holds every value in float64, exact up to 53 bits. A sum (Gemm, MatMul,
Conv, an average) is computed exactly at any width by `fxhls.fixed.dot`, in integers
where float64 cannot hold it; its result must then be cast to at most 53 bits by the
node's own `out_type`, inside that exact computation.
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import FixedType
from fxhls.fixed.formats import fits_exactly


def fits_float64(t: FixedType) -> bool:
    """Whether float64 holds every value of `t` (and every partial sum of it) exactly."""
    return fits_exactly(t, np.float64)


def wide_result_cast(node, acc: FixedType) -> FixedType | None:
    """The type the node's result is cast to inside its exact sum: None when float64
    holds `acc`, else the node's `out_type`; a one-line refusal when it has none that
    float64 holds."""
    if fits_float64(acc):
        return None
    out = FixedType.parse(node.attrs["out_type"]) if "out_type" in node.attrs else None
    if out is None or not fits_float64(out):
        found = "it has no out_type" if out is None else f"its out_type {out} is too"
        raise ValueError(f"node {node.name!r}: its accumulator {acc} is wider than float64 holds exactly (53 bits) "
                         f"and {found}; the emulator supports a wider accumulator cast to at most 53 bits by its "
                         "node's out_type (fxhls.ir.passes.lower_for_hardware fuses the Quantize after it)")
    return out
