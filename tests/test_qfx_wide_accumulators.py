"""QLinear and QConv2d whose accumulator is wider than float64 holds (53 bits): the forward's
values are the exact sum cast to the output type, the gradient still flows, and the emulator
of the exported model computes the same bits."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

import fxhls
from fxhls.fixed import FixedType, reciprocal
from fxhls.fixed.codes import cast_codes, from_codes
from fxhls.onnx import export_onnx
from fxhls.qfx import QAdaptiveAvgPool2d, QAvgPool2d, QConv2d, QFlatten, QInput, QLinear
from fxhls.qfx.elementwise import RECIPROCAL_TYPE

WIDE = "ap_fixed<40,20,AP_RND_CONV,AP_SAT>"  # 40-bit inputs and weights: 80-bit products
OUT = "ap_fixed<53,40,AP_RND_CONV,AP_SAT>"


def _exact_linear(x: torch.Tensor, layer: QLinear) -> np.ndarray:
    """The layer's output from Fractions: exact sums cast by `fxhls.fixed.codes`."""
    w, b = layer.quantized_weight().detach().double().numpy(), layer.quantized_bias().detach().double().numpy()
    to_fraction = np.vectorize(Fraction, otypes=[object])
    sums = to_fraction(x.detach().double().numpy()) @ to_fraction(w).T + to_fraction(b)
    codes = np.array([int(v * 2**100) for v in sums.ravel()], dtype=object)
    out = layer.output_type
    return from_codes(cast_codes(codes, 100, out), out.frac_bits).reshape(sums.shape)


def test_a_linear_layer_with_a_wide_exact_accumulator_is_exact_and_trains():
    torch.manual_seed(0)
    layer = QLinear(16, 4, weight=WIDE, bias_type=WIDE, output=OUT).double()  # 40-bit types need float64
    nn.init.uniform_(layer.weight, -(2.0**19), 2.0**19)  # float64: every bit of the 40-bit weights in use
    x = QInput(WIDE)(torch.randn(6, 16, dtype=torch.float64) * 2.0**17)
    y = layer(x)
    assert layer.acc_type.width > 53
    assert y.detach().double().numpy().tolist() == _exact_linear(x, layer).tolist()
    y.sum().backward()
    assert layer.weight.grad is not None and bool(torch.isfinite(layer.weight.grad).all())


def test_a_wide_user_accumulator_rounds_every_step_as_dot_with_bias_with_out():
    torch.manual_seed(1)
    acc = FixedType(64, 60, True, "AP_TRN", "AP_SAT")  # 80-bit products: every step drops 36 bits
    layer = QLinear(12, 3, weight=WIDE, bias_type=WIDE, output=OUT, acc=acc).double()
    nn.init.uniform_(layer.weight, -(2.0**19), 2.0**19)  # float64: every bit of the 40-bit weights in use
    x = QInput(WIDE)(torch.randn(5, 12, dtype=torch.float64) * 2.0**17)
    w, b = layer.quantized_weight().detach().double(), layer.quantized_bias().detach().double()
    want = fxhls.fixed.dot_with_bias(x.double(), w, b, acc, layer.output_type)
    assert torch.equal(layer(x), want)


def test_an_exported_wide_model_emulates_bit_for_bit(tmp_path):
    torch.manual_seed(2)
    model = nn.Sequential(
        QInput(WIDE),
        QConv2d(1, 2, 3, padding=1, weight=WIDE, bias_type=WIDE, output=OUT),
        QFlatten(),
        QLinear(2 * 5 * 5, 3, weight="ap_fixed<30,2,AP_RND_CONV,AP_SAT>", bias_type=WIDE, output=OUT),
    ).double()
    nn.init.uniform_(model[1].weight, -(2.0**19), 2.0**19)  # float64: every bit of the 40-bit weights in use
    nn.init.uniform_(model[3].weight, -2.0, 2.0)
    x = torch.randn(4, 1, 5, 5, dtype=torch.float64) * 2.0**17
    export_onnx(model, x, tmp_path / "wide.onnx")
    model.eval()
    with torch.no_grad():
        expected = model(x).double().numpy()
    assert model[1].acc_type.width > 53 and model[3].acc_type.width > 53
    assert np.array_equal(fxhls.emulate(tmp_path / "wide.onnx", x.numpy()), expected)


POOL_OUT = "ap_fixed<53,4,AP_RND,AP_SAT>"  # a last place near float64's for these averages


@pytest.mark.parametrize("pool", [QAvgPool2d(3, output=POOL_OUT), QAdaptiveAvgPool2d(1, output=POOL_OUT)],
                         ids=["window", "global"])
def test_an_average_of_wide_values_is_exact_and_emulates_bit_for_bit(pool, tmp_path):
    """50-bit values times 1/9 (18 bits): 72-bit products, cast to 53 bits."""
    model = nn.Sequential(QInput("ap_fixed<50,4,AP_RND_CONV,AP_SAT>"), pool).double()
    x = torch.rand(4, 8, 3, 3, dtype=torch.float64) * 14 - 7
    export_onnx(model, x, tmp_path / "pool.onnx")
    model.eval()
    with torch.no_grad():
        y, values = model(x), model[0](x)
    xf = np.vectorize(Fraction, otypes=[object])(values.numpy())
    averages = xf.sum(axis=(2, 3), keepdims=True) * Fraction(reciprocal(9, RECIPROCAL_TYPE))
    codes = np.array([int(v * 2**100) for v in averages.ravel()], dtype=object)
    out = pool.output_type
    assert y.numpy().tolist() == from_codes(cast_codes(codes, 100, out), out.frac_bits).reshape(y.shape).tolist()
    assert np.array_equal(fxhls.emulate(tmp_path / "pool.onnx", x.numpy()), y.numpy())
