"""describe_types lists each QFX layer's types; bit_cost sums the learned integer bits."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fxhls.qfx import QFlatten, QInput, QLinear, QReLU, bit_cost, describe_types


def small_model() -> nn.Sequential:
    return nn.Sequential(
        QInput("ap_ufixed<8,1>", "learned"),
        QFlatten(),
        QLinear(4, 3, weight="ap_fixed<6,1>", bias_type="ap_fixed<12,3>", output="ap_fixed<10,4>", khot=2),
        QReLU("ap_ufixed<7,3>"),
    )


def test_describe_types_has_a_row_per_layer_in_order():
    # exact accumulator: u8.1 x s6.1 is s14.2; 4 terms add 2 integer bits; + the s12.3 bias: s17.5
    model = small_model()
    model(torch.rand(2, 2, 2))
    assert describe_types(model).splitlines() == [
        "| layer | op | output | weight / BN scale | bias / BN shift | accumulator |",
        "|---|---|---|---|---|---|",
        "| `0` | QInput | `ap_ufixed<8,1>` |  |  |  |",
        "| `1` | QFlatten | input's |  |  |  |",
        "| `2` | QLinear | `ap_fixed<10,4>` | `ap_fixed<6,1>` 2-hot | `ap_fixed<12,3>` | exact `ap_fixed<17,5>` |",
        "| `3` | QReLU | `ap_ufixed<7,3>` |  |  |  |",
    ]


def test_bit_cost_sums_the_learned_integer_bits_with_a_gradient():
    model = small_model()
    model[3].output_quantizer.int_bits.requires_grad_(False)  # not learned: not counted
    cost = bit_cost(model)
    assert cost.item() == 1 + 1 + 3 + 4  # input, weight, bias, linear output
    cost.backward()
    assert model[2].weight_quantizer.int_bits.grad.item() == 1.0


def test_describe_types_of_a_float_model_is_an_error():
    with pytest.raises(ValueError, match="describe_types: Linear has no QFX layer"):
        describe_types(nn.Linear(2, 2))
