"""Shared fixtures: the ap_fixed oracle, compiled once for the types the tests draw from.

`ap_fixed` types are C++ template parameters, so the tests draw types from fixed,
seeded lists (compiled into one cached oracle program) and values freely.
"""

from __future__ import annotations

import random

import pytest

from fxhls.fixed import OVERFLOW_MODES, ROUNDING_MODES, FixedType
from fxhls.sim.apfixed_oracle import ApFixedOracle
from fxhls.sim.selfcheck import representative_types

_rng = random.Random(20261124)


def _random_type(max_width: int, rng: random.Random = _rng) -> FixedType:
    width = rng.randint(1, max_width)
    return FixedType(
        width,
        rng.randint(-6, width + 6),
        rng.random() < 0.7,
        rng.choice(ROUNDING_MODES),
        rng.choice(OVERFLOW_MODES),
    )


def _fits_float64_dot(a: FixedType, b: FixedType, acc: FixedType) -> bool:
    product_low = -(a.frac_bits + b.frac_bits)
    top = max(acc.int_bits, a.int_bits + b.int_bits) + 1
    return a.width + b.width <= 53 and top - min(-acc.frac_bits, product_low) <= 53


def _dot_triples(count: int) -> list[tuple[FixedType, FixedType, FixedType]]:
    triples = []
    while len(triples) < count:
        a, b = _random_type(16), _random_type(16)
        if len(triples) % 2:
            acc = _random_type(40)  # narrow or odd accumulators: rounding, saturation, wrap
        else:
            acc = FixedType(a.width + b.width + 8, a.int_bits + b.int_bits + 8)  # wide: never overflows
        if _fits_float64_dot(a, b, acc):
            triples.append((a, b, acc))
    return triples


CAST_TYPES = representative_types() + [_random_type(53) for _ in range(120)]
INTEGER_SPELLINGS = ["ap_int<1>", "ap_int<8>", "ap_uint<5>", "ap_int<24>", "ap_uint<32>"]
PAIRS = [(_random_type(40), _random_type(40)) for _ in range(150)]
DOT_TRIPLES = _dot_triples(40)


@pytest.fixture(scope="session")
def oracle():
    """The ap_fixed oracle for CAST_TYPES, INTEGER_SPELLINGS, PAIRS and DOT_TRIPLES."""
    with ApFixedOracle(casts=CAST_TYPES + INTEGER_SPELLINGS, dots=DOT_TRIPLES, pairs=PAIRS) as program:
        yield program
