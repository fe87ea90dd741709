"""dot beyond float64's 53 bits: accumulators up to 128 bits and products up to 80 against the real ap_fixed.h.

The oracle answers with the exact code of `out_t r = s;` (`ApFixedOracle.dot_code`), so a
wide accumulator is compared bit for bit: through `dot_codes` (the accumulator's own
codes) and through `dot(..., out=...)` (the cast the emulator stores).
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from conftest import DOT_TRIPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhls.fixed import OVERFLOW_MODES, ROUNDING_MODES, FixedType, dot, dot_codes, quantize
from fxhls.sim.apfixed_oracle import ApFixedOracle

_rng = random.Random(20261203)


def _operand(min_width: int = 8) -> FixedType:
    width = _rng.randint(min_width, 40)
    return FixedType(width, _rng.randint(-4, width + 4), _rng.random() < 0.8)


def _narrow_out(acc: FixedType) -> FixedType:
    """A type of at most 53 bits to cast `acc` into. Its last bit is at most acc's top bit:
    beyond that the headers assert ("Attempting to read bit beyond MSB" in ap_private.h)."""
    width, frac_bits = _rng.randint(4, 53), _rng.randint(-acc.int_bits, acc.frac_bits + 4)
    return FixedType(width, width - frac_bits, _rng.random() < 0.8, _rng.choice(ROUNDING_MODES),
                     _rng.choice(OVERFLOW_MODES))


def _triples() -> list[tuple[FixedType, FixedType, FixedType]]:
    triples = []
    for rounding, overflow in itertools.product(ROUNDING_MODES, OVERFLOW_MODES):  # every mode, 64 bits
        a, b = _operand(30), _operand(30)  # products of 60 to 80 bits: every step rounds, many overflow
        frac_bits = a.frac_bits + b.frac_bits - _rng.randint(1, 12)
        triples.append((a, b, FixedType(64, 64 - frac_bits, True, rounding, overflow)))
    for _ in range(8):  # wider still, signed and unsigned
        a, b = _operand(), _operand()
        width = _rng.randint(54, 100)
        signed = _rng.random() < 0.7
        acc = FixedType(width, a.int_bits + b.int_bits + _rng.randint(-8, 8), signed or a.signed or b.signed,
                        _rng.choice(ROUNDING_MODES), _rng.choice(OVERFLOW_MODES))
        triples.append((a, b, acc))
    modes = list(itertools.product(ROUNDING_MODES, OVERFLOW_MODES))
    for width in (40, 53, 54, 63, 64, 65, 96, 128):  # 32 x 32-bit products into each width the issue names
        rounding, overflow = _rng.choice(modes)
        a, b = FixedType(32, 16), FixedType(32, 8, False)
        frac_bits = a.frac_bits + b.frac_bits - _rng.randint(0, 10)
        int_bits = width - frac_bits if _rng.random() < 0.5 else _rng.randint(10, 30)  # no overflow, or much
        triples.append((a, b, FixedType(width, int_bits, _rng.random() < 0.6, rounding, overflow)))
    wide = FixedType(40, 20)
    triples += [
        (wide, wide, FixedType(80, 40)),  # the exact accumulator of 40-bit products
        (wide, wide, FixedType(80, 40, True, "AP_RND_CONV", "AP_SAT")),
        (FixedType(32, 16), FixedType(32, 16), FixedType(39, 33, True, "AP_RND", "AP_SAT_SYM")),  # the issue's
    ]
    return triples


TRIPLES = _triples()
OUTS = {triple: _narrow_out(triple[2]) for triple in TRIPLES}


@pytest.fixture(scope="module")
def wide_oracle():
    quadruples = [(a, b, acc, out) for (a, b, acc) in TRIPLES for out in (acc, OUTS[(a, b, acc)])]
    with ApFixedOracle(dot_codes=quadruples) as program:
        yield program


def values_of(t: FixedType, few_bits: bool = False):
    """Any value of `t`; or, `few_bits`, one with at most two significant bits (a small code
    shifted up): sums of those often fall on the ties where the rounding modes differ."""
    codes = st.integers(t.min_code, t.max_code)
    if few_bits:
        shifted = st.tuples(st.integers(-3, 3), st.integers(0, max(t.width - 3, 0))).map(lambda p: p[0] << p[1])
        codes = shifted.filter(lambda code: t.min_code <= code <= t.max_code)
    return codes.map(lambda code: math.ldexp(code, -t.frac_bits))


def rows_of(draw, t: FixedType, rows: int, length: int, few_bits: bool) -> list[list[float]]:
    row = st.lists(values_of(t, few_bits), min_size=length, max_size=length)
    return draw(st.lists(row, min_size=rows, max_size=rows))


@st.composite
def wide_case(draw):
    a_type, b_type, acc = draw(st.sampled_from(TRIPLES))
    rows, length, few_bits = draw(st.integers(1, 3)), draw(st.integers(1, 12)), draw(st.booleans())
    a, b = rows_of(draw, a_type, rows, length, few_bits), rows_of(draw, b_type, rows, length, few_bits)
    # The values the C++ variables hold (AP_SAT_SYM types cannot hold their lowest code).
    return a_type, b_type, acc, quantize(np.array(a), a_type), quantize(np.array(b), b_type)


@settings(max_examples=300, deadline=None)
@given(case=wide_case())
def test_wide_accumulator_codes_equal_cpp(wide_oracle, case):
    a_type, b_type, acc, a, b = case
    want = wide_oracle.dot_code(a_type, b_type, acc, acc, list(zip(a.tolist(), b.tolist())))
    assert dot_codes(a, b, acc).tolist() == want


@settings(max_examples=300, deadline=None)
@given(case=wide_case())
def test_wide_accumulator_cast_to_its_output_equals_cpp(wide_oracle, case):
    a_type, b_type, acc, a, b = case
    out = OUTS[(a_type, b_type, acc)]
    codes = wide_oracle.dot_code(a_type, b_type, acc, out, list(zip(a.tolist(), b.tolist())))
    assert dot(a, b, acc, out).tolist() == [math.ldexp(code, -out.frac_bits) for code in codes]


@st.composite
def narrow_case(draw):
    a_type, b_type, acc = draw(st.sampled_from(DOT_TRIPLES))
    rows, length, few_bits = draw(st.integers(1, 4)), draw(st.integers(1, 24)), draw(st.booleans())
    a, b = rows_of(draw, a_type, rows, length, few_bits), rows_of(draw, b_type, 1, length, few_bits)[0]
    return acc, quantize(np.array(a), a_type), quantize(np.array(b), b_type)


@settings(max_examples=200, deadline=None)
@given(case=narrow_case())
def test_integer_codes_equal_the_float_paths(case):
    """Where float64 holds every step (the float paths, themselves checked against C++), the
    integer path gives the same codes."""
    acc, a, b = case
    assert dot_codes(a, b, acc).tolist() == np.ldexp(dot(a, b, acc), acc.frac_bits).astype(np.int64).tolist()


def test_an_exact_sum_past_53_bits_is_exact():
    """2**40 + 1 squared needs 81 bits: float64 would drop the 1 of the sum."""
    a = np.array([2.0**40 + 1, 1.0])
    acc = FixedType(90, 90)
    assert dot_codes(a, a, acc).tolist() == (2**40 + 1) ** 2 + 1
    assert dot(a, a, acc, FixedType(8, 8, True, "AP_TRN", "AP_WRAP")).item() == float(((2**40 + 1) ** 2 + 1) % 256)


def test_a_result_type_wider_than_float64_is_refused():
    with pytest.raises(ValueError, match=r"dot: the result type ap_fixed<80,40> does not fit float64 \(53 bits\)"):
        dot(np.ones(3), np.ones(3), "ap_fixed<80,40>")
