"""QFX layers compute what the hardware computes: compared with == against fxhls.fixed."""

from __future__ import annotations

import math

import pytest
import torch

from fxhls.fixed import FixedType, dot, quantize
from fxhls.qfx import (
    FixedQuantizer,
    QAdaptiveAvgPool2d,
    QAdd,
    QAvgPool2d,
    QBatchNorm2d,
    QConv2d,
    QInput,
    QLinear,
    QReLU,
    QSign,
    type_of,
)
from fxhls.qfx.elementwise import RECIPROCAL_TYPE

torch.manual_seed(0)
INPUT = FixedType.parse("ap_fixed<8,3,AP_RND_CONV,AP_SAT>")
NARROW_ACC = FixedType.parse("ap_fixed<12,4,AP_RND,AP_SAT>")


def quantized_input(*shape):
    return QInput(INPUT)(torch.randn(*shape) * 2)


def stepwise(bias: float, weights: list[float], inputs: list[float], acc: FixedType) -> float:
    """`acc_t s = bias; for (k) s += w[k] * x[k];` one step at a time."""
    s = quantize(torch.tensor([bias], dtype=torch.float64), acc)
    for w, x in zip(weights, inputs):
        s = quantize(s + w * x, acc)
    return s.item()


@pytest.mark.parametrize(
    "input_type, weight_type, features",
    [
        (INPUT, "ap_fixed<8,1,AP_RND_CONV,AP_SAT>", 20),  # the whole sum fits float32
        ("ap_fixed<10,3>", "ap_fixed<10,1>", 100),  # float32 slices summed in float64
        ("ap_fixed<14,3>", "ap_fixed<12,1>", 50),  # products too wide: float64
    ],
)
def test_linear_with_exact_accumulator_equals_dot_then_quantize(input_type, weight_type, features):
    layer = QLinear(features, 6, weight=weight_type, output="ap_fixed<20,8,AP_RND,AP_SAT>")
    x = QInput(input_type)(torch.randn(5, features) * 2)
    y = layer(x)
    w, b = layer.quantized_weight().double(), layer.quantized_bias().double()
    acc = dot(x.double().unsqueeze(1), w, layer.acc_type) + b
    assert torch.equal(y.double(), quantize(acc, layer.output_type))
    assert type_of(y) == layer.output_type and y.dtype == torch.float32


def test_linear_applies_to_the_last_dimension_of_any_input():
    layer = QLinear(4, 3)
    x = quantized_input(2, 4, 4)
    rows = torch.stack([layer(row) for row in x])
    assert torch.equal(layer(x), rows)


def test_linear_with_narrow_accumulator_equals_hls_order():
    layer = QLinear(10, 3, acc=NARROW_ACC)
    x = quantized_input(4, 10)
    y = layer(x)
    w, b = layer.quantized_weight().double(), layer.quantized_bias().double()
    want = [
        [stepwise(b[o].item(), w[o].tolist(), row.tolist(), NARROW_ACC) for o in range(3)]
        for row in x.double()
    ]
    assert torch.equal(y.double(), quantize(torch.tensor(want, dtype=torch.float64), layer.output_type))


def test_narrow_accumulator_still_trains():
    layer = QLinear(10, 3, acc=NARROW_ACC)
    layer(quantized_input(4, 10)).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("acc", [None, NARROW_ACC])
def test_conv_equals_window_by_window_accumulation(acc):
    layer = QConv2d(2, 3, 3, stride=2, padding=1, acc=acc)
    x = quantized_input(2, 2, 5, 5)
    y = layer(x)
    w, b = layer.quantized_weight().double(), layer.quantized_bias().double()
    acc_type = layer.acc_type
    padded = torch.nn.functional.pad(x.double(), (1, 1, 1, 1))
    want = torch.empty(y.shape, dtype=torch.float64)
    for n in range(2):
        for o in range(3):
            for i in range(y.shape[2]):
                for j in range(y.shape[3]):
                    window = padded[n, :, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3]
                    want[n, o, i, j] = stepwise(b[o].item(), w[o].flatten().tolist(), window.flatten().tolist(), acc_type)
    assert torch.equal(y.double(), quantize(want, layer.output_type))


def test_exact_accumulator_type_holds_the_worst_case_sum():
    layer = QLinear(100, 4)
    layer(quantized_input(1, 100))
    worst = 100 * abs(INPUT.min) * layer.weight_type.max + abs(layer.bias_type.min)
    acc = layer.acc_type
    assert worst <= acc.max and acc.frac_bits >= INPUT.frac_bits + layer.weight_type.frac_bits


def test_batchnorm_in_eval_is_a_quantized_affine():
    bn = QBatchNorm2d(3)
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    bn.eval()
    x = quantized_input(2, 3, 4, 4)
    scale = quantize(bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps), bn.scale_type)
    shift = quantize(bn.bias.detach() - bn.running_mean * scale, bn.shift_type)
    exact = x.double() * scale.double().view(1, 3, 1, 1) + shift.double().view(1, 3, 1, 1)
    assert torch.equal(bn(x).double(), quantize(exact, bn.output_type))


def test_batchnorm_in_training_uses_batch_statistics_and_still_quantizes():
    bn = QBatchNorm2d(3)
    x = quantized_input(8, 3, 4, 4)
    y = bn(x)
    assert torch.equal(quantize(y.double(), bn.output_type), y.double())
    assert abs(y.double().mean().item()) < 0.05 and not torch.equal(bn.running_mean, torch.zeros(3))


def test_average_pool_multiplies_by_a_quantized_reciprocal():
    pool = QAvgPool2d(3)
    x = quantized_input(1, 2, 6, 6)
    one_ninth = quantize(torch.tensor(1 / 9, dtype=torch.float64), RECIPROCAL_TYPE).item()
    sums = x.double().unfold(2, 3, 3).unfold(3, 3, 3).sum(dim=(-1, -2))
    assert torch.equal(pool(x).double(), quantize(sums * one_ninth, pool.output_type))


def test_global_average_over_a_power_of_two_is_exact():
    pool = QAdaptiveAvgPool2d(1)
    x = quantized_input(2, 3, 4, 4)
    assert torch.equal(pool(x).double(), quantize(x.double().mean(dim=(2, 3), keepdim=True), pool.output_type))


def test_add_and_relu_quantize_their_exact_results():
    add, relu = QAdd(), QReLU()
    a, b = quantized_input(50), quantized_input(50)
    assert torch.equal(add(a, b).double(), quantize(a.double() + b.double(), add.output_type))
    assert torch.equal(relu(a).double(), quantize(a.double().clamp_min(0), relu.output_type))


def test_binary_layer_is_an_exact_signed_count():
    layer = QLinear(64, 8, bias=False, binary=True, output="ap_fixed<16,16>")
    x = QSign()(torch.randn(5, 64))
    y = layer(x)
    signs = torch.where(layer.weight >= 0, 1, -1)
    assert torch.equal(y.to(torch.int64), x.to(torch.int64) @ signs.T)
    assert set(layer.quantized_weight().unique().tolist()) <= {-1.0, 1.0}


def test_binary_layer_with_a_scale_multiplies_the_count_by_a_quantized_alpha():
    layer = QConv2d(4, 3, 3, bias=False, binary=True, binary_scale=True, output="ap_fixed<24,10,AP_RND,AP_SAT>")
    x = QSign()(torch.randn(2, 4, 5, 5))
    y = layer(x)
    signs = torch.where(layer.weight >= 0, 1.0, -1.0).double()
    counts = torch.nn.functional.conv2d(x.double(), signs)
    alpha = quantize(layer.weight.detach().abs().mean(dim=(1, 2, 3)), layer.binary_scale_quantizer.type)
    assert torch.equal(y.double(), quantize(counts * alpha.double().view(1, 3, 1, 1), layer.output_type))
    y.sum().backward()
    assert layer.binary_scale_quantizer.int_bits.grad is not None


def test_every_layer_exposes_its_types():
    layer = QLinear(4, 2, weight="ap_fixed<6,2,AP_RND_CONV,AP_SAT>", output="ap_fixed<10,4>")
    assert layer.acc_type is None  # unknown until an input type has been seen
    layer(quantized_input(1, 4))
    assert layer.weight_type.width == 6 and layer.output_type == FixedType(10, 4)
    assert layer.acc_type is not None and layer.bias_type is not None
    assert torch.equal(layer.quantized_weight(), quantize(layer.weight, layer.weight_type))


def test_learned_binary_point_follows_the_data():
    def train(int_bits, scale):
        quantizer = FixedQuantizer(FixedType(8, int_bits, True, "AP_RND_CONV", "AP_SAT"))
        optimizer = torch.optim.Adam(quantizer.parameters(), lr=0.1)
        for _ in range(200):
            x = torch.randn(1024) * scale
            optimizer.zero_grad()
            ((quantizer(x) - x) ** 2).mean().backward()
            optimizer.step()
        return quantizer.type.int_bits

    assert train(0, 8.0) >= 4  # values up to ~30 overflow 1 integer bit: the point moves right
    assert train(6, 0.01) <= 0  # values below 0.05 waste 6 integer bits: it moves left


def test_binary_point_gradient_is_the_documented_estimator():
    quantizer = FixedQuantizer(FixedType(4, 1, True, "AP_RND_CONV", "AP_SAT"))
    x = torch.tensor([0.3, -0.7, 5.0, -9.0])
    quantizer(x).sum().backward()
    t = quantizer.type
    q = quantize(x, t)
    inside = torch.tensor([True, True, False, False])
    per_element = torch.where(inside, q - x, q) * math.log(2)
    expected = per_element.sum() / math.sqrt(4 * t.max_code)
    assert torch.allclose(quantizer.int_bits.grad, expected)


def test_learned_types_stay_frozen_when_asked():
    quantizer = FixedQuantizer("ap_fixed<8,3>", binary_point="fixed")
    quantizer(torch.randn(10, requires_grad=True)).sum().backward()
    assert quantizer.int_bits.grad is None and quantizer.type == FixedType(8, 3)
