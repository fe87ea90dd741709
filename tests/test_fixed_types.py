"""FixedType: spellings, derived values, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxhls.fixed import OVERFLOW_MODES, ROUNDING_MODES, FixedType, exact_type, quantize

any_type = st.builds(
    FixedType,
    width=st.integers(1, 1024),
    int_bits=st.integers(-2000, 2000),
    signed=st.booleans(),
    rounding=st.sampled_from(ROUNDING_MODES),
    overflow=st.sampled_from(OVERFLOW_MODES),
)


@given(any_type)
def test_canonical_spelling_parses_back_to_an_equal_type(t):
    assert FixedType.parse(str(t)) == t
    assert hash(FixedType.parse(str(t))) == hash(t)


@pytest.mark.parametrize(
    "spelling, expected",
    [
        ("ap_fixed<8,3>", FixedType(8, 3)),
        ("ap_fixed<8, 3, AP_RND, AP_SAT>", FixedType(8, 3, True, "AP_RND", "AP_SAT")),
        ("ap_fixed<8,3,AP_RND_CONV>", FixedType(8, 3, True, "AP_RND_CONV")),
        ("ap_fixed<8,3,AP_TRN,AP_SAT_SYM,0>", FixedType(8, 3, True, "AP_TRN", "AP_SAT_SYM")),
        ("ap_ufixed<4,-2>", FixedType(4, -2, False)),
        ("ap_fixed<4,9>", FixedType(4, 9)),
        ("ap_int<7>", FixedType(7, 7, True, "AP_TRN_ZERO", "AP_WRAP")),
        ("ap_uint<1>", FixedType(1, 1, False, "AP_TRN_ZERO", "AP_WRAP")),
    ],
)
def test_parse_reads_cpp_spellings(spelling, expected):
    assert FixedType.parse(spelling) == expected


def test_canonical_spelling_omits_default_modes():
    assert str(FixedType(8, 3)) == "ap_fixed<8,3>"
    assert str(FixedType(8, 3, False, "AP_RND")) == "ap_ufixed<8,3,AP_RND>"
    assert str(FixedType(8, 3, True, "AP_TRN", "AP_SAT")) == "ap_fixed<8,3,AP_TRN,AP_SAT>"


def test_derived_values():
    t = FixedType(8, 3)
    assert (t.frac_bits, t.lsb, t.min, t.max) == (5, 2**-5, -4.0, 4 - 2**-5)
    u = FixedType(4, -2, signed=False)
    assert (u.frac_bits, u.min, u.max, u.min_code, u.max_code) == (6, 0.0, 15 * 2**-6, 0, 15)
    big = FixedType(4, 9)
    assert (big.frac_bits, big.lsb, big.min, big.max) == (-5, 32.0, -256.0, 224.0)


def test_types_are_immutable():
    with pytest.raises(AttributeError):
        FixedType(8, 3).width = 9


@pytest.mark.parametrize(
    "spelling",
    ["ap_fixed<0,3>", "ap_fixed<8>", "ap_fixed<8,3,AP_ROUND>", "ap_fixed<8,3,AP_RND,AP_CLIP>",
     "ap_fixed<8,3,AP_RND,AP_SAT,2>", "ap_fixed<a,3>", "int8", "", "ap_fixed<2000,3>", "ap_int<8,2>"],
)
def test_bad_spellings_name_the_input_and_the_accepted_form(spelling):
    with pytest.raises(ValueError) as info:
        FixedType.parse(spelling)
    message = str(info.value)
    assert repr(spelling) in message and "ap_fixed<W,I>" in message and "\n" not in message


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"width": 0, "int_bits": 0}, "width must be between 1 and 1024"),
        ({"width": 8, "int_bits": 3, "rounding": "AP_ROUND"}, "supported: AP_RND"),
        ({"width": 8, "int_bits": 3, "overflow": "SAT"}, "supported: AP_SAT"),
        ({"width": 8.0, "int_bits": 3}, "must be an integer"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FixedType(**kwargs)


@given(st.lists(st.integers(-(2**20), 2**20), min_size=1, max_size=8), st.integers(-12, 12))
def test_exact_type_is_the_narrowest_type_holding_the_values(codes, exponent):
    values = np.array([c * 2.0**exponent for c in codes])
    t = exact_type(values)
    assert np.array_equal(quantize(values, t), values)
    if t.width > 1:
        for n in (FixedType(t.width - 1, t.int_bits, t.signed), FixedType(t.width - 1, t.int_bits - 1, t.signed)):
            assert not np.array_equal(quantize(values, n), values), n
    floor = exact_type(values, min_frac_bits=0)
    assert floor.frac_bits == max(t.frac_bits, 0) and np.array_equal(quantize(values, floor), values)
