"""result_type and dot against the real ap_fixed.h (wide accumulators: test_fixed_dot_wide.py)."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import DOT_TRIPLES, PAIRS
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhls.fixed import FixedType, dot, quantize, result_type
from fxhls.fixed import accumulate
from fxhls.sim.apfixed_oracle import ApFixedOracle


@settings(max_examples=150, deadline=None)
@given(pair=st.sampled_from(PAIRS))
def test_result_types_equal_cpp(oracle, pair):
    a, b = pair
    assert {op: result_type(op, a, b) for op in ("add", "sub", "mul")} == oracle.result_types(a, b)


def codes_of(t: FixedType):
    return st.integers(t.min_code, t.max_code).map(lambda code: math.ldexp(code, -t.frac_bits))


@st.composite
def dot_case(draw):
    a_type, b_type, acc = draw(st.sampled_from(DOT_TRIPLES))
    rows, length = draw(st.integers(1, 4)), draw(st.integers(1, 24))
    a = draw(st.lists(st.lists(codes_of(a_type), min_size=length, max_size=length), min_size=rows, max_size=rows))
    b = draw(st.lists(st.lists(codes_of(b_type), min_size=length, max_size=length), min_size=rows, max_size=rows))
    return a_type, b_type, acc, a, b


@settings(max_examples=300, deadline=None)
@given(case=dot_case())
def test_dot_equals_cpp_accumulation(oracle, case):
    a_type, b_type, acc, a, b = case
    # The values the C++ variables hold (AP_SAT_SYM types cannot hold their lowest code).
    a = quantize(torch.tensor(a, dtype=torch.float64), a_type)
    b = quantize(torch.tensor(b, dtype=torch.float64), b_type)
    want = oracle.dot(a_type, b_type, acc, list(zip(a.tolist(), b.tolist())))
    assert dot(a, b, acc).tolist() == want


def test_a_saturating_accumulator_depends_on_order():
    """7 + 7 saturates at 7.9375 before -7 comes; in the other order nothing saturates."""
    a_type, b_type = FixedType(8, 4), FixedType(8, 4)
    acc = FixedType(8, 4, True, "AP_TRN", "AP_SAT")
    rows = [([7.0, 7.0, -7.0], [1.0, 1.0, 1.0]), ([-7.0, 7.0, 7.0], [1.0, 1.0, 1.0])]
    got = [dot(torch.tensor(a), torch.tensor(b), acc).item() for a, b in rows]
    with ApFixedOracle(dots=[(a_type, b_type, acc)]) as program:
        assert got == program.dot(a_type, b_type, acc, rows) == [0.9375, 7.0]


def test_wide_accumulator_takes_the_fast_path(monkeypatch):
    def stepwise_is_not_needed(*args):
        raise AssertionError("dot quantized a partial sum although the accumulator cannot round or overflow")

    monkeypatch.setattr(accumulate, "quantize_array", stepwise_is_not_needed)
    a = quantize(torch.randn(64, 300), "ap_fixed<8,3>")
    b = quantize(torch.randn(300), "ap_fixed<6,1>")
    exact = dot(a, b, "ap_fixed<32,14>")
    assert torch.equal(exact, (a.double() * b.double()).sum(-1).to(exact.dtype))


def test_result_dtype_follows_inputs_when_the_accumulator_fits():
    a = quantize(torch.randn(5, 8), "ap_fixed<8,3>")
    assert dot(a, a, "ap_fixed<20,8>").dtype == torch.float32
    assert dot(a, a, "ap_fixed<32,8>").dtype == torch.float64
    assert dot(a.double(), a.double(), "ap_fixed<20,8>").dtype == torch.float64


def test_broadcasts_leading_dimensions():
    a = quantize(torch.randn(3, 1, 16), "ap_fixed<8,3>")
    b = quantize(torch.randn(4, 16), "ap_fixed<8,3>")
    assert dot(a, b, "ap_fixed<24,10,AP_RND,AP_SAT>").shape == (3, 4)


def test_products_wider_than_float64_are_exact():
    """(1 + 2**-40)**2 = 1 + 2**-39 + 2**-80 needs 81 bits; the accumulator rounds it (AP_TRN)."""
    a = torch.tensor([1 + 2.0**-40], dtype=torch.float64)
    assert dot(a, a, "ap_fixed<53,10>").item() == 1 + 2.0**-39
    assert dot(a, a, "ap_fixed<53,10,AP_RND_INF>").item() == 1 + 2.0**-39


def test_non_float_inputs_are_refused():
    with pytest.raises(ValueError, match="float32 or float64"):
        dot(torch.ones(3, dtype=torch.int64), torch.ones(3, dtype=torch.int64), "ap_fixed<16,8>")


def test_unknown_result_op_is_refused():
    with pytest.raises(ValueError, match="supported: 'add', 'sub', 'mul'"):
        result_type("div", "ap_fixed<8,3>", "ap_fixed<8,3>")
