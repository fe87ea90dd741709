"""Parameters of the stream modules of templates/rtl (element-wise, pooling, converters)
for the IR's nodes."""

from __future__ import annotations

import math

from fxhls.fixed import FixedType


def type_parameters(role: str, t: FixedType, cast: bool = False) -> dict[str, int | str]:
    """A fixed-point type as module parameters `<role>_W`, `<role>_FRAC`, `<role>_SIGNED`,
    and with `cast` its modes `<role>_ROUNDING`, `<role>_OVERFLOW`."""
    parameters: dict[str, int | str] = {f"{role}_W": t.width, f"{role}_FRAC": t.frac_bits, f"{role}_SIGNED": int(t.signed)}
    if cast:
        parameters |= {f"{role}_ROUNDING": t.rounding, f"{role}_OVERFLOW": t.overflow}
    return parameters


def reciprocal_parameters(value: float) -> dict[str, int]:
    """A pooling unit's 1/N (a value of `fxhls.fixed.reciprocal`) as RECIP (a non-negative
    code), RECIP_FRAC (its fractional bits: the fewest that hold it exactly) and RECIP_W."""
    if not value > 0 or not math.isfinite(value):
        raise ValueError(f"a reciprocal is a positive finite number, got {value!r}")
    frac = 0
    while value * 2.0**frac != math.floor(value * 2.0**frac):
        frac += 1
    code = int(value * 2.0**frac)
    return {"RECIP": code, "RECIP_FRAC": frac, "RECIP_W": code.bit_length()}
