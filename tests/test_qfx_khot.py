"""K-hot projection against brute force: nearest value with at most K signed powers of two."""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhls.fixed import FixedType, quantize
from fxhls.qfx import QBatchNorm2d, QConv2d, QLinear, nearest_khot


@lru_cache(maxsize=None)
def fewest_terms(width: int) -> dict[int, int]:
    """For every integer that digits -1, 0, +1 at bit positions 0..width-1 can spell:
    the fewest nonzero digits that spell it (enumerating all 3**width digit strings)."""
    fewest: dict[int, int] = {}
    for digits in itertools.product((-1, 0, 1), repeat=width):
        value = sum(d << j for j, d in enumerate(digits))
        weight = sum(d != 0 for d in digits)
        fewest[value] = min(weight, fewest.get(value, width + 1))
    return fewest


def brute_force_nearest(value: float, t: FixedType, k: int) -> float:
    holdable = [
        c for c in range(t.min_code, t.max_code + 1)
        if fewest_terms(t.width).get(c, k + 1) <= k and quantize(torch.tensor([c * t.lsb], dtype=torch.float64), t).item() == c * t.lsb
    ]
    code = value / t.lsb
    best = min(holdable, key=lambda c: (abs(c - code), abs(c)))
    return best * t.lsb


small_types = st.builds(
    FixedType,
    width=st.integers(1, 8),
    int_bits=st.integers(-3, 6),
    signed=st.booleans(),
    rounding=st.just("AP_RND_CONV"),
    overflow=st.sampled_from(["AP_SAT", "AP_SAT_SYM"]),
)


@settings(max_examples=150, deadline=None)
@given(t=small_types, k=st.integers(1, 3), data=st.data())
def test_nearest_khot_equals_brute_force(t, k, data):
    codes = data.draw(st.lists(st.integers(t.min_code, t.max_code), min_size=1, max_size=20))
    values = quantize(torch.tensor([math.ldexp(c, -t.frac_bits) for c in codes], dtype=torch.float64), t)
    got = nearest_khot(values, t, k).tolist()
    assert got == [brute_force_nearest(v, t, k) for v in values.tolist()]


def test_khot_layer_weights_have_at_most_k_terms():
    layer = QLinear(32, 16, khot=2)
    w = layer.quantized_weight().detach()
    codes = (w * 2.0**layer.weight_type.frac_bits).to(torch.int64).flatten().tolist()
    assert max(fewest_terms(8)[c] for c in codes) <= 2


def test_khot_gradient_is_straight_through():
    layer = QLinear(8, 4, khot=1)
    layer.quantized_weight().sum().backward()
    inside = (layer.weight.abs() <= layer.weight_type.max).float()
    assert torch.equal(layer.weight.grad, inside)


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_k_is_refused_naming_the_layer(k):
    with pytest.raises(ValueError, match=r"^QLinear: K-hot needs an integer K >= 1"):
        QLinear(4, 4, khot=k)


def test_bad_types_are_refused_naming_the_layer():
    with pytest.raises(ValueError, match=r"^QConv2d: cannot parse fixed-point type 'ap_fixed<0,2>'"):
        QConv2d(1, 1, 3, weight="ap_fixed<0,2>")
    with pytest.raises(ValueError, match=r"^QBatchNorm2d: K-hot needs an integer K >= 1"):
        QBatchNorm2d(4, khot=0)
