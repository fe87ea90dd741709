"""What the `ap_fixed` headers themselves cannot compute, and the exact ways around it.

The headers' conversion from `ap_fixed<W1, I1>` to a type with F2 fractional bits and a
rounding mode other than AP_TRN reads bit F1 - F2 - 1 of the source to round: when that
bit lies beyond the source's MSB (F1 - F2 > W1, a source wholly below the target's lsb,
as after an input scale of 2^-17) the program aborts ("Attempting to read bit beyond
MSB"), though the value is well defined. Measured with g++ on the headers fxhls uses.
"""

from __future__ import annotations

from .types import FixedType


def headers_can_convert(source: FixedType, target: FixedType) -> bool:
    """Whether the headers compute `target t = source_value;` without aborting."""
    return target.rounding == "AP_TRN" or source.frac_bits - target.frac_bits <= source.width


def sign_extended_for(source: FixedType, target: FixedType) -> FixedType:
    """`source` with enough integer bits added (same value of every code, same fraction)
    that the headers can convert it to `target`; `source` itself when they already can."""
    if headers_can_convert(source, target):
        return source
    width = source.frac_bits - target.frac_bits
    return FixedType(width, width - source.frac_bits, source.signed, source.rounding, source.overflow)
