"""The grid a lookup table samples: every code of a narrow input, a truncated grid for a wide one.

A table over an input of at most `MAX_TABLE_INPUT_BITS` bits has an entry per input code.
A wider input (up to `MAX_TRUNCATED_INPUT_BITS` bits) is read through a `Truncation`:

1. the input code is clamped to [low, high], the codes where the function is not constant
   at the output's precision. `low` is the highest code such that every code from the
   input's lowest to `low` gives the same output, the function rounded to the output's lsb
   and saturated at its range (for a monotone function, found by bisection); `high` the
   same from the top. Clamping changes no output: an end whose constant value is the output
   type's min or max is not clamped where the output wraps (AP_WRAP, AP_SAT_ZERO: values
   past the range need not be constant), nor is either end of a function that is not
   monotone (Elu, Selu with a negative alpha);
2. `drop_bits` = k, the fewest low bits to drop so at most 2**16 entries remain: the index
   is `(clamped - low + 2**(k-1)) >> k` (0 offset when k = 0), the grid point nearest the
   code (ties up) among low, low + 2**k, ...;
3. entry j is the function at input code `low + j * 2**k`, except the last entry, at
   `high` itself (so codes clamped at the top read exactly their value), quantized to
   the output type.

The emulator, QFX's activations and both hardware backends compute this index and read
these entries, so they agree exactly; the truncation's error against the function on the
full grid is the price of the dropped bits alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from .functions import MAX_TABLE_INPUT_BITS, evaluate, monotone
from .quantize import quantize
from .types import FixedType

MAX_TABLE_ENTRIES = 1 << MAX_TABLE_INPUT_BITS
MAX_TRUNCATED_INPUT_BITS = 32


@dataclass(frozen=True)
class Truncation:
    """Input codes clamped to [low, high], then `drop_bits` low bits dropped (rounding to nearest, ties up)."""

    low: int
    high: int
    drop_bits: int

    @property
    def entries(self) -> int:
        """How many entries the table holds: one per index."""
        return ((self.high - self.low + self._half) >> self.drop_bits) + 1

    @property
    def _half(self) -> int:
        return (1 << self.drop_bits) >> 1

    def index(self, codes: np.ndarray) -> np.ndarray:
        """The entry each input code (int64) reads."""
        return (np.clip(codes, self.low, self.high) - self.low + self._half) >> self.drop_bits

    def grid_codes(self) -> np.ndarray:
        """The input code each entry is the function at (int64, one per entry)."""
        codes = self.low + (np.arange(self.entries, dtype=np.int64) << self.drop_bits)
        codes[-1] = self.high
        return codes

    def attrs(self) -> dict:
        """The truncation as a Table node's attributes."""
        return {"clamp_low": self.low, "clamp_high": self.high, "drop_bits": self.drop_bits}

    @classmethod
    def from_attrs(cls, attrs: dict) -> "Truncation | None":
        """The truncation a Table node's attributes say, or None for a full table."""
        if "drop_bits" not in attrs:
            return None
        return cls(int(attrs["clamp_low"]), int(attrs["clamp_high"]), int(attrs["drop_bits"]))


def needs_truncation(in_type: FixedType) -> bool:
    return in_type.width > MAX_TABLE_INPUT_BITS


def truncation_refusal(function: str, in_type: FixedType) -> str | None:
    """Why no truncated table over `in_type` is built (one line), or None."""
    if in_type.width > MAX_TRUNCATED_INPUT_BITS:
        return (f"a {function} table over {in_type} ({in_type.width} bits) is not built: a table's input takes at "
                f"most {MAX_TRUNCATED_INPUT_BITS} bits (truncated to {MAX_TABLE_ENTRIES:,} entries above "
                f"{MAX_TABLE_INPUT_BITS}); narrow its input (a config output type for the layer before it, or a "
                f"quantizer before the {function})")
    return None


@lru_cache(maxsize=64)
def truncation(function: str, params: tuple, in_type: FixedType, out_type: FixedType) -> Truncation:
    """The `Truncation` of the `function` table (parameters as sorted (name, value) pairs)
    over the wide `in_type`, quantized to `out_type` (see the module's description)."""
    values = dict(params)
    saturating = replace(out_type, overflow="AP_SAT")

    def rounded(code: int) -> float:
        return float(quantize(evaluate(function, np.array([code * in_type.lsb]), values), saturating)[0])

    low, high = in_type.min_code, in_type.max_code
    if monotone(function, values):
        wraps = out_type.overflow not in ("AP_SAT", "AP_SAT_SYM")
        bounds = (saturating.min, saturating.max)
        start, end = rounded(low), rounded(high)
        top = _constant_run(rounded, high, low) if not (wraps and end in bounds) else high
        bottom = _constant_run(rounded, low, high) if not (wraps and start in bounds) else low
        low, high = bottom, max(top, bottom)
    span, drop_bits = high - low, 0
    while ((span + ((1 << drop_bits) >> 1)) >> drop_bits) + 1 > MAX_TABLE_ENTRIES:
        drop_bits += 1
    return Truncation(low, high, drop_bits)


def _constant_run(rounded, start: int, stop: int) -> int:
    """The code farthest from `start` towards `stop` up to which the monotone `rounded`
    keeps its value at `start`."""
    target = rounded(start)
    if rounded(stop) == target:
        return stop
    good, bad = start, stop
    while abs(bad - good) > 1:
        middle = (good + bad) // 2
        if rounded(middle) == target:
            good = middle
        else:
            bad = middle
    return good
