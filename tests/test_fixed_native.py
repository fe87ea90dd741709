"""The native CPU kernels against the PyTorch path they replace (both are checked against
ap_fixed.h in test_fixed_quantize.py): the same bits on long tensors with every special
value, the same learned-binary-point gradients, and the PyTorch path where they cannot serve."""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys

import pytest
import torch
from conftest import CAST_TYPES

from fxhls.fixed import FixedType, native
from fxhls.fixed.quantize import check_exact, kernel_constants, quantize_values
from fxhls.qfx.quantizer import FixedQuantizer

SPECIALS = [math.inf, -math.inf, math.nan, 0.0, -0.0, 1e-300, -1e-300, 1e-40, -1e-40, 5e-324]


def long_tensor(t: FixedType, dtype: torch.dtype, seed: int) -> torch.Tensor:
    """Values on and between t's codes, ties, far outside its range, and special values;
    an odd length, so the kernels' vector loops have a tail."""
    generator = torch.Generator().manual_seed(seed)
    codes = torch.randint(t.min_code * 3 - 5, t.max_code * 3 + 5, (4001,), generator=generator).double()
    halves = torch.randint(-2, 3, (4001,), generator=generator).double() / 4
    spread = torch.randn(2001, generator=generator, dtype=torch.float64) * 2.0 ** (t.int_bits + 2)
    values = torch.cat([(codes + halves) * t.lsb, spread, torch.tensor(SPECIALS, dtype=torch.float64)])
    return values.to(dtype)


def cast_cases(dtype: torch.dtype):
    """(type, its long tensor) for every cast type that `dtype` holds exactly."""
    for index, t in enumerate(CAST_TYPES):
        try:
            check_exact(t, dtype)
        except ValueError:
            continue
        yield t, long_tensor(t, dtype, index)


def same_bits(a: torch.Tensor, b: torch.Tensor) -> int:
    """The number of elements that differ in value, in NaN-ness or in the sign of zero."""
    equal = (a == b) & (torch.signbit(a) == torch.signbit(b))
    return int((~(equal | (a.isnan() & b.isnan()))).sum())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_native_quantize_has_the_bits_of_the_pytorch_path(dtype):
    failures = {}
    for t, x in cast_cases(dtype):
        fused = native.quantize_into(x, t)
        with native.disabled():
            reference = quantize_values(x, t)
        if same_bits(fused, reference):
            failures[str(t)] = same_bits(fused, reference)
    assert failures == {}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("relu", [False, True])
def test_native_learned_point_gradients_match_the_pytorch_path(dtype, relu):
    t = FixedType(8, 2, relu is False, "AP_RND_CONV", "AP_SAT")
    gradients = {}
    for name, context in (("native", contextlib.nullcontext), ("pytorch", native.disabled)):
        torch.manual_seed(0)
        quantizer = FixedQuantizer(t)
        x = (torch.randn(3001, dtype=dtype) * 3).requires_grad_()
        with torch.no_grad():
            x[:4] = torch.tensor([math.inf, -math.inf, 4 - 2**-6, -0.0])
        with context():
            y = quantizer.relu(x) if relu else quantizer(x)
            y.backward(torch.randn(3001, dtype=dtype, generator=torch.Generator().manual_seed(1)))
        gradients[name] = (y.detach(), x.grad, quantizer.int_bits.grad)
    (y, grad_x, grad_point), (y_ref, grad_x_ref, grad_point_ref) = gradients["native"], gradients["pytorch"]
    assert same_bits(y, y_ref) == 0 and same_bits(grad_x, grad_x_ref) == 0
    assert grad_point.item() == pytest.approx(grad_point_ref.item(), rel=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_learned_point_backward_in_place_has_the_bits_of_a_fresh_gradient(dtype):
    """Written over the incoming gradient (in the vector loop and its tail), or over a
    contiguous copy of a strided one: the gradient and the point's sum are unchanged."""
    t = FixedType(8, 2, True, "AP_RND_CONV", "AP_SAT")
    x = long_tensor(t, dtype, 0)
    x = x[~x.isnan()]  # a NaN makes the point's sum NaN, which compares unequal to itself
    kernels = native.kernels_for(x, t)
    y = kernels.quantize(x)
    grad = torch.randn(len(x), dtype=dtype, generator=torch.Generator().manual_seed(2))
    fresh, fresh_total = kernels.learned_point_backward(x, y, grad, t.min, t.max, True)
    ours = grad.clone()
    in_place, in_place_total = kernels.learned_point_backward(x, y, ours, t.min, t.max, True, in_place=True)
    strided = torch.stack([grad, grad]).t()[:, 0]
    copied, copied_total = kernels.learned_point_backward(x, y, strided, t.min, t.max, True)
    assert in_place.data_ptr() == ours.data_ptr() and same_bits(in_place, fresh) == 0 and same_bits(copied, fresh) == 0
    assert in_place_total == fresh_total == copied_total and torch.equal(strided, grad)


def test_kernels_leave_what_they_cannot_serve_to_pytorch():
    t = FixedType(8, 3)
    assert native.quantize_into(torch.randn(4, 6).t(), t) is None  # not contiguous
    assert native.quantize_into(torch.randn(4).requires_grad_(), t) is None  # autograd records it
    with torch.no_grad():
        assert native.quantize_into(torch.randn(4).requires_grad_(), t) is not None
    assert native.quantize_into(torch.randn(4, dtype=torch.float16), t) is None
    with native.disabled():
        assert native.quantize_into(torch.randn(4), t) is None


def test_fxhls_native_0_turns_the_kernels_off():
    program = "import torch; from fxhls.fixed import native, FixedType; " \
              "print(native.quantize_into(torch.ones(2), FixedType(8, 3)))"
    environment = os.environ | {"FXHLS_NATIVE": "0"}
    result = subprocess.run([sys.executable, "-c", program], env=environment, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "None"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_native_affine_quantize_matches_the_pytorch_path(dtype):
    """FixedQuantizer.affine (QFX BatchNorm's x * scale + shift, quantized): the same
    output bits and input gradient, the same scale, shift and binary-point gradients."""
    t = FixedType(8, 3, True, "AP_RND", "AP_SAT")
    results = {}
    for name, context in (("native", contextlib.nullcontext), ("pytorch", native.disabled)):
        generator = torch.Generator().manual_seed(2)
        quantizer = FixedQuantizer(t)
        x = torch.randint(-64, 64, (5, 3, 7, 9), generator=generator).to(dtype).div(16).requires_grad_()
        scale = torch.tensor([0.75, -1.5, 2.25], dtype=dtype, requires_grad=True)
        shift = torch.tensor([0.5, -0.25, 3.0], dtype=dtype, requires_grad=True)
        with context():
            y = quantizer.affine(x, scale.view(1, -1, 1, 1), shift.view(1, -1, 1, 1))
            y.backward(torch.randn(y.shape, dtype=dtype, generator=generator))
        results[name] = (y.detach(), x.grad, scale.grad, shift.grad, quantizer.int_bits.grad)
    native_result, reference = results["native"], results["pytorch"]
    assert same_bits(native_result[0], reference[0]) == 0 and same_bits(native_result[1], reference[1]) == 0
    for got, want in zip(native_result[2:], reference[2:]):
        assert torch.allclose(got, want, rtol=1e-5, atol=1e-6)


def test_native_channel_sums_match_pytorch():
    x = torch.randn(6, 5, 11, 13, dtype=torch.float64)
    sums, squares = native.channel_sums(x)
    assert torch.allclose(sums, x.sum((0, 2, 3))) and torch.allclose(squares, (x * x).sum((0, 2, 3)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_numpy_quantize_has_the_bits_of_the_native_kernel_and_the_pytorch_path(dtype):
    """fxhls.fixed.quantize_numpy (the fallback for arrays, and the deploy driver's input cast)."""
    from fxhls.fixed.quantize_numpy import quantize_with_constants

    failures = {}
    for t, x in cast_cases(dtype):
        constants = kernel_constants(t, dtype)
        got = torch.from_numpy(quantize_with_constants(x.numpy(), t.rounding, t.overflow, t.signed, constants))
        assert got.dtype == dtype and got.shape == x.shape
        native_bits = native.quantize_into(x, t)
        with native.disabled():
            reference = quantize_values(x, t)
        if same_bits(got, native_bits) or same_bits(got, reference):
            failures[str(t)] = (same_bits(got, native_bits), same_bits(got, reference))
    assert failures == {}



@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("shape", [(5, 3, 7, 9), (4, 2, 16, 16), (3, 5, 1, 1), (2, 3, 5), (1, 1, 40)], ids=str)
def test_affine_relu_kernels_have_the_bits_of_the_two_passes_they_fuse(dtype, shape):
    """affine_relu_quantize and affine_relu_backward (a QBatchNorm and the QReLU after it)
    against affine_quantize, quantize and their two backward passes: the same outputs and
    gradients and the same binary-point sums, to the bit, for channel runs that start
    anywhere in the vector lanes and arrays with and without a tail."""
    t = FixedType(10, 3, True, "AP_RND", "AP_SAT")
    relu_t = FixedType(6, 2, False, "AP_RND_CONV", "AP_SAT")
    generator = torch.Generator().manual_seed(sum(shape))
    x = (torch.randn(shape, generator=generator, dtype=torch.float64) * 3).to(dtype)
    x.view(-1)[:3] = torch.tensor([math.inf, -math.inf, -0.0], dtype=dtype)[: x.numel()]
    channels = shape[1]
    scale = torch.linspace(-1.5, 2.25, channels, dtype=dtype)
    shift = torch.linspace(0.5, -0.75, channels, dtype=dtype)
    grad = torch.randn(shape, generator=generator, dtype=dtype)
    lowest = torch.finfo(dtype).tiny * torch.finfo(dtype).eps

    y1, y2 = native.affine_relu_quantize(x, scale, shift, t, relu_t)
    y1_ref = native.affine_quantize(x, scale, shift, t, kernel_constants(t, dtype))
    relu_kernels = native.kernels_for(y1_ref, relu_t)
    y2_ref = relu_kernels.quantize(y1_ref)
    assert same_bits(y1, y1_ref) == 0 and same_bits(y2, y2_ref) == 0

    for needs_grad_x in (True, False):
        bounds = (t.min, t.max, lowest, relu_t.max)
        grad_x, grad_scale, grad_shift, total, relu_total = native.affine_relu_backward(
            x, y1, y2, grad, scale, shift, bounds, needs_grad_x)
        grad_y1, relu_total_ref = relu_kernels.learned_point_backward(y1_ref, y2_ref, grad, lowest, relu_t.max, True)
        grad_x_ref, grad_scale_ref, grad_shift_ref, total_ref = native.affine_backward(
            x, y1_ref, grad_y1, scale, shift, t.min, t.max, needs_grad_x)
        assert total == total_ref and relu_total == relu_total_ref
        assert same_bits(grad_scale, grad_scale_ref) == 0 and same_bits(grad_shift, grad_shift_ref) == 0
        assert (grad_x is None) == (grad_x_ref is None) == (not needs_grad_x)
        if needs_grad_x:
            assert same_bits(grad_x, grad_x_ref) == 0
