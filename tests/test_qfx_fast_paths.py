"""The faster training paths of QFX layers keep their values exact: compared with == against fxhls.fixed."""

from __future__ import annotations

import contextlib
import math
from unittest import mock

import torch

from fxhls.fixed import FixedType, native, quantize
from fxhls.qfx import FixedQuantizer, QBatchNorm2d, QInput, QLinear, single_channel_conv
from fxhls.qfx.batchnorm import _BatchMoments

WIDE_INPUT = FixedType.parse("ap_fixed<16,6,AP_RND_CONV,AP_SAT>")


def batchnorm_case(output="ap_fixed<16,6,AP_RND_CONV,AP_SAT>", spread=6.0):
    """A BatchNorm whose exact affine (16-bit input times 12-bit scale) does not fit float32."""
    torch.manual_seed(1)
    bn = QBatchNorm2d(4, output=output)
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.fill_(1 - bn.eps)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([2047, 1505, 1003, 777]) / 256)  # scales of 11 significant bits
        bn.bias.uniform_(-0.5, 0.5)
    with torch.no_grad():
        x = QInput(WIDE_INPUT)(torch.randn(64, 4, 16, 16) * spread)
    scale, shift = (v.detach().double().view(1, -1, 1, 1) for v in bn.quantized_affine())
    return bn.eval(), x, x.double() * scale + shift, x * scale.float() + shift.float()


def check_exact_with_gradients(bn, x, exact):
    x.requires_grad_(True)
    y = bn(x)
    assert y.dtype == torch.float32
    assert (y.double() != quantize(exact, bn.output_type)).sum().item() == 0
    y.sum().backward()
    assert torch.isfinite(x.grad).all() and bn.output_quantizer.int_bits.grad is not None


def test_batchnorm_in_float32_is_exact_as_its_output_saturates():
    bn, x, exact, rounded = batchnorm_case(spread=20.0)
    assert (rounded.double() != exact).sum().item() > 0  # float32 rounds the affine
    assert (exact.abs() > bn.output_type.max).sum().item() > 0  # some outputs saturate
    check_exact_with_gradients(bn, x, exact)


def test_batchnorm_with_gradients_is_exact_when_float32_would_round():
    bn, x, exact, rounded = batchnorm_case(output="ap_fixed<20,10,AP_RND_CONV,AP_SAT>")
    output_type = bn.output_type
    assert (quantize(rounded.double(), output_type) != quantize(exact, output_type)).sum().item() > 0
    check_exact_with_gradients(bn, x, exact)


def test_quantizer_given_exact_values_returns_them_quantized():
    exact = torch.randn(1000, dtype=torch.float64) * 3 + 2.0**-30
    stand_in = exact.float()
    for binary_point in ("learned", "fixed"):
        quantizer = FixedQuantizer("ap_fixed<20,4,AP_RND,AP_SAT>", binary_point)
        stand_in.requires_grad_(True)
        y = quantizer(stand_in, exact=exact)
        assert (y.double() != quantize(exact, quantizer.type)).sum().item() == 0
        y.sum().backward()
        assert torch.equal(stand_in.grad, (stand_in.abs() <= quantizer.type.max).float())
        stand_in.grad = None


def test_binary_point_gradient_ignores_infinite_inputs():
    quantizer = FixedQuantizer(FixedType(4, 1, True, "AP_RND_CONV", "AP_SAT"))
    x = torch.tensor([0.3, math.inf, -math.inf], requires_grad=True)
    quantizer(x).sum().backward()
    t = quantizer.type
    q = quantize(x.detach(), t)
    expected = ((q[0] - 0.3) + q[1] + q[2]) * math.log(2) / math.sqrt(3 * t.max_code)
    assert torch.equal(x.grad, torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(quantizer.int_bits.grad, expected)


def test_batch_moments_gradient_matches_autograd():
    x = torch.randn(8, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(2, 3, dtype=torch.float64)
    mean, var = _BatchMoments.apply(x, [0, 2, 3])
    (mean @ weights[0] + var @ weights[1]).backward()
    reference = x.detach().clone().requires_grad_(True)
    want_var, want_mean = torch.var_mean(reference, [0, 2, 3], correction=0)
    (want_mean @ weights[0] + want_var @ weights[1]).backward()
    assert torch.allclose(mean, want_mean) and torch.allclose(var, want_var)
    assert torch.allclose(x.grad, reference.grad)


def relu_then_quantize(x, fused: bool, type="ap_ufixed<6,2,AP_RND_CONV,AP_SAT>"):
    quantizer = FixedQuantizer(type)
    x = x.clone().requires_grad_(True)
    y = quantizer.relu(x) if fused else quantizer(torch.relu(x))
    (y * torch.linspace(-1, 2, len(x))).sum().backward()
    return y.detach(), x.grad, quantizer.int_bits.grad


def test_fused_relu_has_the_values_and_gradients_of_relu_then_quantize():
    torch.manual_seed(2)
    x = torch.cat([torch.randn(300) * 3, torch.tensor([0.0, -0.0, 1e-45, -1e-45, 3.9, 4.0, math.inf, -math.inf])])
    for type in ("ap_ufixed<6,2,AP_RND_CONV,AP_SAT>", "ap_ufixed<6,2,AP_TRN,AP_SAT_SYM>", "ap_fixed<6,2>"):
        fused, reference = relu_then_quantize(x, True, type), relu_then_quantize(x, False, type)
        for got, want in zip(fused, reference):
            assert (got != want).sum().item() == 0


def test_single_channel_convolution_equals_conv2d_with_its_gradients():
    """Exact sums (values on a grid, as QFX's are) come out equal; the gradients match."""
    torch.manual_seed(3)
    cases = [((1, 1), (1, 1), 3, torch.float32), ((2, 2), (0, 0), 5, torch.float64),
             ((2, 1), (2, 1), 3, torch.float32)]
    for stride, padding, kernel, dtype in cases:
        for needs_grad in (True, False):
            x = (torch.randint(-128, 128, (4, 1, 11, 13)) / 32).to(dtype).requires_grad_(needs_grad)
            w = (torch.randint(-128, 128, (6, 1, kernel, kernel)) / 64).to(dtype).requires_grad_()
            y = single_channel_conv.conv2d(x, w, stride, padding)
            want = torch.nn.functional.conv2d(x, w, None, stride, padding)
            assert y.shape == want.shape and (y != want).sum().item() == 0
            g = torch.randn_like(want)
            inputs = (x, w) if needs_grad else (w,)
            got_grads = torch.autograd.grad(y, inputs, g)
            want_grads = torch.autograd.grad(want, inputs, g)
            for got, expected in zip(got_grads, want_grads):
                assert torch.allclose(got, expected, rtol=1e-4, atol=1e-5)


def weight_and_bias_gradients(together: bool, seed: int, dtype=torch.float32):
    """A QLinear's output and the gradients to its input, weight, bias and every binary
    point, its weight and bias quantized in one autograd node or one at a time."""
    torch.manual_seed(seed)
    layer = QLinear(37, 11, weight="ap_fixed<6,1,AP_RND_CONV,AP_SAT>", bias_type="ap_fixed<9,2,AP_RND,AP_SAT>")
    layer = layer.to(dtype)
    with torch.no_grad():
        layer.weight.mul_(3)  # some weights saturate
        layer.bias.uniform_(-3, 3)
    x = QInput("ap_fixed<8,2,AP_RND_CONV,AP_SAT>", "fixed")(torch.randn(5, 37, dtype=dtype) * 2).requires_grad_()
    with mock.patch.object(QLinear, "_in_one_node", lambda self, x, relu=None: None):  # the layer's unfused path
        if together:
            y = layer(x)
        else:
            with mock.patch.object(FixedQuantizer, "quantize_together",
                                   staticmethod(lambda quantizers, tensors: [q(t) for q, t in zip(quantizers, tensors)])):
                y = layer(x)
    y.backward(torch.randn(y.shape, dtype=dtype, generator=torch.Generator().manual_seed(seed)))
    points = [m.int_bits.grad for m in layer.modules() if isinstance(m, FixedQuantizer)]
    return [y.detach(), x.grad, layer.weight.grad, layer.bias.grad, *points]


def test_weight_and_bias_in_one_node_give_the_values_and_gradients_of_two():
    for seed in range(4):
        for dtype in (torch.float32, torch.float64):
            for context in (contextlib.nullcontext, native.disabled):
                with context():
                    together = weight_and_bias_gradients(True, seed, dtype)
                    apart = weight_and_bias_gradients(False, seed, dtype)
                assert len(together) == len(apart) == 7
                for got, want in zip(together, apart):
                    assert got.dtype == want.dtype and (got != want).sum().item() == 0


def test_a_frozen_quantizer_on_an_input_without_gradient_records_no_node():
    x = torch.cat([torch.randn(999) * 9, torch.tensor([math.inf, -math.inf, -0.0])])
    for binary_point in ("fixed", "calibrated"):
        quantizer = FixedQuantizer("ap_fixed<8,3,AP_RND_CONV,AP_SAT>", binary_point)
        quantizer(x[:999])  # a calibrated one fits its point to this first batch
        for context in (contextlib.nullcontext, native.disabled):
            with context():
                y = quantizer(x)
            assert y.grad_fn is None and (y != quantize(x, quantizer.type)).sum().item() == 0
        x_grad = x.clone().requires_grad_()
        assert quantizer(x_grad).grad_fn is not None  # a gradient to carry: quantize's node
