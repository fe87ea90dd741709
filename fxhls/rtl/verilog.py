"""Verilog literals for module parameters."""

from __future__ import annotations

import re
from collections.abc import Iterable

from fxhls.escaping import Code


def packed_codes(codes: Iterable[int], bits: int) -> int:
    """Codes as one integer, code i at bits [i*bits, (i+1)*bits) (two's complement, wrapped to `bits`)."""
    mask = (1 << bits) - 1
    return sum((int(code) & mask) << (i * bits) for i, code in enumerate(codes))


# Verilator reads number literals of at most 65,536 bits: a wider value is a concatenation of pieces.
LITERAL_BITS = 1 << 15


def packed_literal(codes: Iterable[int], bits: int) -> str:
    """A sized hexadecimal literal of the packed codes, e.g. `24'h0a0b0c` (lane 0 at the
    right); wider than LITERAL_BITS, a concatenation of such literals, the highest first."""
    codes = list(codes)
    return sized_literal(packed_codes(codes, bits), max(1, len(codes) * bits))


def sized_literal(value: int, width: int) -> str:
    """`value` (non-negative, below 2**width) as a sized hexadecimal literal of `width`
    bits; wider than LITERAL_BITS, a concatenation of such literals, the highest first."""
    pieces = [(low, min(LITERAL_BITS, width - low)) for low in range(0, width, LITERAL_BITS)]
    literals = [f"{size}'h{(value >> low) & ((1 << size) - 1):x}" for low, size in reversed(pieces)]
    return literals[0] if len(literals) == 1 else "{" + ", ".join(literals) + "}"


def sized_literals(values: Iterable[int], width: int) -> list[str]:
    """`sized_literal` of each value (non-negative, below 2**width), ready for a template:
    ROM words, formatted here from integers, so no parameter check is needed per word."""
    if width > LITERAL_BITS:
        return [Code(sized_literal(value, width)) for value in values]
    return [Code(f"{width}'h{value:x}") for value in values]


def literal(value: int | str) -> str:
    """A parameter value in Verilog: integers as they are, names (rounding and overflow
    modes) quoted, sized literals (`24'h...`) and concatenations of them unchanged."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    sized = r"[0-9]+'[bdh][0-9a-fA-F_]+"
    if isinstance(value, str) and re.fullmatch(rf"{sized}|\{{{sized}(, {sized})*\}}", value):
        return Code(value)
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        return Code(f'"{value}"')
    raise ValueError(f"a Verilog parameter is an integer, a sized literal or a mode name, got {str(value)[:80]!r}")
