"""QFX max pooling in the native kernels against torch's `max_pool2d`: the same values (to
the sign of zero and NaN-ness) and the same gradient, on quantized values full of ties,
with infinities and NaNs, for window shapes that tile the input and ones that leave rows
and columns over; and torch's own op where the kernels do not serve."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fixed_native import same_bits

from fxhls import qfx
from fxhls.fixed import native
from fxhls.qfx.typed import type_of

SPECIALS = [math.inf, -math.inf, math.nan, -0.0, 0.0]


def quantized_values(shape, dtype, seed: int, specials: bool) -> torch.Tensor:
    """Codes of a 3-bit grid (many ties within a window), a share of them special values."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(-3, 5, shape, generator=generator).to(dtype) / 4
    if specials:
        where = torch.randint(0, 7, shape, generator=generator) == 0
        picks = torch.randint(0, len(SPECIALS), shape, generator=generator)
        x = torch.where(where, torch.tensor(SPECIALS, dtype=dtype)[picks], x)
    return x


def pooled_and_gradient(pool, x: torch.Tensor, seed: int):
    x = x.clone().requires_grad_()
    y = pool(x)
    grad = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed), dtype=x.dtype)
    y.backward(grad)
    return y.detach(), x.grad


@settings(max_examples=60, deadline=None)
@given(batch=st.integers(1, 3), channels=st.integers(1, 4), height=st.integers(1, 13), width=st.integers(1, 13),
       kernel_height=st.integers(1, 4), kernel_width=st.integers(1, 5), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([torch.float32, torch.float64]), specials=st.booleans())
def test_tiling_max_pool_equals_torch(batch, channels, height, width, kernel_height, kernel_width, seed, dtype,
                                      specials):
    kernel = (min(kernel_height, height), min(kernel_width, width))
    x = quantized_values((batch, channels, height, width), dtype, seed, specials)
    ours = pooled_and_gradient(qfx.QMaxPool2d(kernel), x, seed)
    torchs = pooled_and_gradient(lambda v: F.max_pool2d(v, kernel), x, seed)
    assert [same_bits(a, b) for a, b in zip(ours, torchs)] == [0, 0]


def test_a_bench_sized_pool_takes_the_native_kernels_and_equals_torch():
    """The 2x2 pool of the bench CNN (64x16x28x28, ReLU codes: most windows tie at 0)."""
    x = torch.relu(quantized_values((64, 16, 28, 28), torch.float32, 1, specials=False))
    assert native.max_pool_tiles(x, (2, 2)) is not None
    ours = pooled_and_gradient(qfx.QMaxPool2d(2), x, 2)
    torchs = pooled_and_gradient(lambda v: F.max_pool2d(v, 2), x, 2)
    assert [same_bits(a, b) for a, b in zip(ours, torchs)] == [0, 0]


def test_unbatched_input_and_the_type_tag_pass_through():
    x = qfx.QInput()(torch.rand(3, 8, 8))
    y = qfx.QMaxPool2d(2)(x)
    assert y.shape == (3, 4, 4) and type_of(y) == type_of(x)
    assert torch.equal(y, F.max_pool2d(x, 2))


def test_pools_the_kernels_do_not_serve_are_torchs():
    """Overlapping windows, padding, ceil mode, a non-contiguous input, kernels turned off."""
    x = quantized_values((2, 3, 9, 9), torch.float32, 3, specials=False)
    cases = [(qfx.QMaxPool2d(3, stride=2), x), (qfx.QMaxPool2d(2, padding=1), x),
             (qfx.QMaxPool2d(2, ceil_mode=True), x), (qfx.QMaxPool2d(2), x.transpose(2, 3))]
    for pool, value in cases:
        reference = torch.nn.MaxPool2d(pool.kernel_size, pool.stride, pool.padding, ceil_mode=pool.ceil_mode)
        assert [same_bits(a, b) for a, b in zip(pooled_and_gradient(pool, value, 4),
                                                pooled_and_gradient(reference, value, 4))] == [0, 0]
    with native.disabled():
        assert [same_bits(a, b) for a, b in zip(pooled_and_gradient(qfx.QMaxPool2d(2), x, 5),
                                                pooled_and_gradient(lambda v: F.max_pool2d(v, 2), x, 5))] == [0, 0]
