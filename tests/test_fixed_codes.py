"""fxhls.fixed.codes: the cast on integer codes equals `quantize` (itself checked against
ap_fixed.h in test_fixed_quantize.py), in int64 and in Python ints."""

from __future__ import annotations

import math

import numpy as np
from conftest import CAST_TYPES
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhls.fixed import FixedType, quantize
from fxhls.fixed.codes import cast_codes, from_codes, to_codes


@st.composite
def cast_case(draw):
    """A type, a number of fractional bits to give the values, and values on that grid
    around the type's range: ties (odd multiples of half the type's last place) come often."""
    t = draw(st.sampled_from(CAST_TYPES))
    frac_bits = t.frac_bits + draw(st.integers(-4, 6))
    reach = t.width + max(frac_bits - t.frac_bits, 0) + 1  # codes reaching past the type's range
    small = st.integers(-40, 40)
    codes = st.one_of(st.integers(-(1 << reach), 1 << reach), small, small.map(lambda c: 2 * c + 1))
    values = draw(st.lists(codes, min_size=1, max_size=30))
    return t, frac_bits, np.array([math.ldexp(code, -frac_bits) for code in values])


@settings(max_examples=400, deadline=None)
@given(case=cast_case(), python_ints=st.booleans())
def test_cast_codes_equals_quantize(case, python_ints):
    t, frac_bits, x = case
    codes = to_codes(x, frac_bits)
    if python_ints:
        codes = codes.astype(object)
    got = from_codes(cast_codes(codes, frac_bits, t), t.frac_bits)
    assert got.tolist() == quantize(x, t).tolist()


@settings(max_examples=200, deadline=None)
@given(codes=st.lists(st.integers(-(1 << 52), 1 << 52), min_size=1, max_size=20), frac_bits=st.integers(-60, 1000))
def test_codes_go_to_values_and_back(codes, frac_bits):
    """At any binary point, past int64 too (the codes of 2**-1000 need a Python int)."""
    values = from_codes(np.array(codes, dtype=object), frac_bits)
    assert values.tolist() == [math.ldexp(code, -frac_bits) for code in codes]
    assert to_codes(values, frac_bits).tolist() == codes


def test_int64_codes_become_python_ints_where_int64_cannot_hold_them():
    assert to_codes(np.array([1.0, -3.0]), 10).dtype == np.int64
    assert to_codes(np.array([1.0, -3.0]), 70).tolist() == [1 << 70, -3 << 70]
    assert cast_codes(np.array([3], dtype=np.int64), 0, FixedType(100, 20)).tolist() == [3 << 80]
