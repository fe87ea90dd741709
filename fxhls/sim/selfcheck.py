"""Checking fxhls's fixed-point emulation against the `ap_fixed` headers in use.

`fxhls selfcheck` runs this: for every rounding and overflow mode on a set of
representative types, it casts probe values (range edges, ties, out-of-range,
huge, tiny and subnormal numbers) with the real headers compiled by g++ and with
`fxhls.fixed.quantize` on numpy arrays (the emulator's path; the tests check PyTorch
tensors too), and counts the values where they differ.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from fxhls.fixed import OVERFLOW_MODES, ROUNDING_MODES, FixedType, check_exact, quantize
from fxhls.sim.apfixed_oracle import ApFixedOracle

# (width, int_bits, signed): 1-bit types, binary points outside the word, float32's limit.
REPRESENTATIVE_SHAPES = (
    (1, 1, True),
    (1, 0, False),
    (3, 0, True),
    (5, -2, True),
    (6, 9, False),
    (8, 3, True),
    (8, 8, False),
    (16, 6, True),
    (24, 4, True),
    (24, 30, False),
    (40, 12, True),
)


def representative_types() -> list[FixedType]:
    """Every rounding and overflow mode on each of `REPRESENTATIVE_SHAPES`."""
    return [
        FixedType(width, int_bits, signed, rounding, overflow)
        for width, int_bits, signed in REPRESENTATIVE_SHAPES
        for rounding in ROUNDING_MODES
        for overflow in OVERFLOW_MODES
    ]


def probe_values(t: FixedType, rng: random.Random, count: int) -> list[float]:
    """About `count` values that exercise `t`: codes and ties at and past the range
    edges, random points between codes, wrap-around distances, extremes of double."""
    codes = [t.min_code, t.max_code, 0, -1, 1, t.min_code + 1, t.max_code - 1]
    values = []
    for code in codes:
        values += [(code + offset) * t.lsb for offset in (-1, -0.5, 0, 0.25, 0.5, 1)]
    span = t.max_code - t.min_code + 1
    while len(values) < count:
        code = rng.randint(t.min_code - span, t.max_code + span)
        values.append((code + rng.choice((0, 0.5, rng.random()))) * t.lsb)
        values.append(rng.uniform(-1, 1) * 2.0 ** rng.randint(-1074 // 8, 1023 // 8))
    values += [0.0, -0.0, 5e-324, -5e-324, 2.0**-1022, 1.7e308, -1.7e308, float("inf"), float("-inf")]
    return values + [n for v in values for n in _neighbours(v)]


def _neighbours(value: float) -> list[float]:
    """The next float32 and float64 values on either side: just below and above a tie."""
    if not math.isfinite(value):
        return []
    neighbours = [math.nextafter(value, -math.inf), math.nextafter(value, math.inf)]
    if abs(value) <= float(np.finfo(np.float32).max):
        as_float32 = np.float32(value)
        neighbours += [float(np.nextafter(as_float32, np.float32(side))) for side in (-np.inf, np.inf)]
    return neighbours


@dataclass
class CheckRow:
    """One type checked in one dtype: how many probe values, how many differed."""

    type: FixedType
    dtype: np.dtype
    values: int
    mismatches: int


def run_selfcheck(values_per_type: int = 200, seed: int = 0) -> list[CheckRow]:
    """Compare `quantize` with the compiled headers; one row per type and dtype."""
    if values_per_type < 1:
        raise ValueError(f"--values must be at least 1 (probe values per type), got {values_per_type}")
    rng = random.Random(seed)
    types = representative_types()
    rows = []
    with ApFixedOracle(casts=types) as oracle:
        for t in types:
            probes = probe_values(t, rng, values_per_type)
            for dtype in (np.dtype(np.float64), np.dtype(np.float32)):
                try:
                    check_exact(t, dtype)
                except ValueError:
                    continue
                with np.errstate(over="ignore"):  # past float32's range: infinities, probes too
                    x = np.array(probes, dtype=dtype)
                want = np.array(oracle.cast(t, x.tolist()))
                got = quantize(x, t).astype(np.float64)
                rows.append(CheckRow(t, dtype, len(probes), int((got != want).sum())))
    return rows
