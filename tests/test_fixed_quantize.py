"""quantize against the real ap_fixed.h: equality, value by value."""

from __future__ import annotations

import contextlib
import math
import random

import numpy as np
import pytest
import torch
from conftest import CAST_TYPES, INTEGER_SPELLINGS
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhls.fixed import FixedType, native, quantize
from fxhls.fixed.quantize import check_exact
from fxhls.sim.selfcheck import probe_values

DTYPES = [torch.float64, torch.float32]
# quantize's two implementations: the native CPU kernel, and PyTorch operations.
IMPLEMENTATIONS = {"native": contextlib.nullcontext, "pytorch": native.disabled}


def fits(t: FixedType, dtype: torch.dtype) -> bool:
    try:
        check_exact(t, dtype)
    except ValueError:
        return False
    return True


@st.composite
def values_for(draw, t: FixedType, dtype: torch.dtype) -> torch.Tensor:
    """Values near t's codes (ties, range edges, far outside) and arbitrary doubles,
    each possibly moved a few units in the last place of `dtype`: just off a tie."""
    span = t.max_code - t.min_code + 1
    edges = sorted({t.min_code - 1, t.min_code, -1, 0, 1, t.max_code, t.max_code + 1})
    codes = st.integers(t.min_code - 2 * span, t.max_code + 2 * span) | st.sampled_from(edges)
    near_grid = st.builds(
        lambda code, offset: math.ldexp(code + offset, -t.frac_bits),
        codes,
        st.sampled_from([0.0, 0.5, -0.5, 0.25, 0.75]) | st.floats(0, 1, exclude_max=True),
    )
    just_off_tie = st.builds(lambda code: math.ldexp(code + 0.5, -t.frac_bits), codes)
    anything = st.floats(allow_nan=False, allow_subnormal=True)
    ulps = st.sampled_from([0, 1, -1, 2, -2])
    pairs = (
        st.tuples(near_grid, ulps)
        | st.tuples(just_off_tie, st.sampled_from([1, -1]))
        | st.tuples(anything, ulps)
    )
    drawn = draw(st.lists(pairs, min_size=1, max_size=40))
    return torch.tensor([moved(value, steps, dtype) for value, steps in drawn], dtype=dtype)


def moved(value: float, ulps: int, dtype: torch.dtype) -> float:
    """`value` in `dtype`, then `ulps` representable values up (or down, if negative)."""
    kind = np.float32 if dtype == torch.float32 else np.float64
    toward = kind(math.copysign(math.inf, ulps))
    with np.errstate(over="ignore"):  # past the largest float is infinity
        x = kind(value)
        for _ in range(abs(ulps)):
            x = np.nextafter(x, toward)
    return float(x)


def mismatches(oracle, t, x: torch.Tensor, kind: str = "tensor") -> list:
    """Where quantize of x (as a tensor, or as a numpy "array") differs from the C++ cast."""
    want = oracle.cast(t, x.tolist())
    got = quantize(x.numpy() if kind == "array" else x, t).tolist()
    return [(v, g, w) for v, g, w in zip(x.tolist(), got, want) if g != w]


def test_the_native_kernels_build_here():
    # Otherwise the "native" tests below would silently test the PyTorch path twice.
    assert native._library() is not None


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@settings(max_examples=300, deadline=None)
@given(data=st.data(), t=st.sampled_from(CAST_TYPES), dtype=st.sampled_from(DTYPES))
def test_quantize_equals_cpp_cast(oracle, implementation, data, t, dtype):
    if not fits(t, dtype):
        dtype = torch.float64
    with IMPLEMENTATIONS[implementation]():
        assert mismatches(oracle, t, data.draw(values_for(t, dtype))) == []


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("kind", ["tensor", "array"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_quantize_sweep_every_type(oracle, dtype, kind, implementation):
    """Every type the tests know, with about 300 probe values each, as tensors and as numpy
    arrays (their PyTorch path: the fallback where the kernels cannot serve): zero mismatches."""
    rng = random.Random(7)
    failures = {}
    with IMPLEMENTATIONS[implementation]():
        for t in CAST_TYPES:
            if fits(t, dtype):
                bad = mismatches(oracle, t, torch.tensor(probe_values(t, rng, 300), dtype=dtype), kind)
                if bad:
                    failures[str(t)] = (len(bad), bad[:3])
    assert failures == {}


@settings(max_examples=100, deadline=None)
@given(spelling=st.sampled_from(INTEGER_SPELLINGS), values=st.lists(st.floats(allow_nan=False), min_size=1))
def test_integer_spellings_cast_like_cpp_ap_int(oracle, spelling, values):
    # The headers' own double -> ap_int conversion stores +1 for every x in (-1, 0)
    # (the magnitude is truncated to 0 after a shift that treats it as -1); fxhls
    # follows the C rule, truncation toward zero, that the same headers apply to
    # ap_fixed -> ap_int. Values in (-1, 0) are therefore compared with that rule.
    x = torch.tensor([v for v in values if not -1 < v < 0], dtype=torch.float64)
    want = oracle.cast(spelling, x.tolist())
    assert quantize(x, spelling).tolist() == want
    assert quantize(torch.tensor([-0.75, -1e-300], dtype=torch.float64), spelling).tolist() == [0.0, 0.0]


def test_result_is_positive_zero_like_cpp():
    out = quantize(torch.tensor([-0.0, -0.01, 0.01]), FixedType(8, 4, rounding="AP_TRN_ZERO"))
    assert out.tolist() == [0.0, 0.0, 0.0]
    assert [math.copysign(1.0, v) for v in out.tolist()] == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_nan_stays_nan_in_every_mode(implementation):
    with IMPLEMENTATIONS[implementation]():
        for t in CAST_TYPES[:28]:
            assert torch.isnan(quantize(torch.tensor([math.nan]), t)).all(), t


def test_numpy_arrays_stay_arrays_of_their_dtype_and_shape():
    x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype(np.float32) * 8
    t = FixedType(8, 3, True, "AP_RND", "AP_SAT")
    for values in (x, x.transpose(2, 0, 1), x[1, 2, ::2], np.float32(x[0, 0, 0])):
        out = quantize(values, t)
        assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == np.shape(values)
        assert np.array_equal(out, quantize(torch.from_numpy(np.array(values)), t).numpy())
    assert quantize([1, -7], t).tolist() == [1.0, -4.0]  # integers and lists: float64 values


def test_keeps_dtype_shape_and_accepts_spellings():
    x = torch.randn(3, 4, 5)
    out = quantize(x, "ap_fixed<8,3,AP_RND,AP_SAT>")
    assert out.dtype == torch.float32 and out.shape == x.shape
    assert torch.equal(out, quantize(x, FixedType(8, 3, True, "AP_RND", "AP_SAT")))


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device on this machine"))])
def test_same_result_on_every_device(device):
    x = torch.randn(10_000, dtype=torch.float64) * 20
    for t in CAST_TYPES[:112]:
        assert torch.equal(quantize(x.to(device), t).cpu(), quantize(x, t)), t


def test_straight_through_gradient_is_one_inside_range_zero_outside():
    t = FixedType(6, 2, rounding="AP_RND", overflow="AP_SAT")
    x = torch.linspace(-4, 4, 801, dtype=torch.float64, requires_grad=True)
    quantize(x, t).backward(torch.full_like(x, 3.0))
    inside = (x.detach() >= -2.0) & (x.detach() <= 2.0 - 2**-4)
    assert torch.equal(x.grad, torch.where(inside, 3.0, 0.0).to(torch.float64))


@pytest.mark.parametrize(
    "t, dtype, message",
    [
        (FixedType(25, 3), torch.float32, "use float64"),
        (FixedType(54, 3), torch.float64, "widths up to 53"),
        (FixedType(8, -200), torch.float32, "binary points"),
        (FixedType(8, 3), torch.int32, "float32 or float64"),
    ],
)
def test_types_a_dtype_cannot_hold_are_refused(t, dtype, message):
    x = torch.zeros(4, dtype=dtype)
    with pytest.raises(ValueError, match=message):
        quantize(x, t)
