"""The input's binary point: calibrated from data and frozen by default, learned from the loss on request.

Calibrated, it is no trained parameter and nothing asks for the gradient at the
input, so the first layer skips its input-gradient GEMM; learned, it moves with
the loss as before.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fxhls.fixed import FixedType
from fxhls.qfx import FixedQuantizer, QFXConfig, QInput, QLinear, calibrate, quantize_model

START = "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"


def model(binary_point: str | None = None) -> nn.Sequential:
    inp = QInput(START) if binary_point is None else QInput(START, binary_point)
    return nn.Sequential(inp, QLinear(4, 3))


def train_step(net: nn.Module, x: torch.Tensor) -> None:
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    optimizer.zero_grad()
    net(x).square().sum().backward()
    optimizer.step()


def test_by_default_the_input_point_is_no_trained_parameter_and_no_gradient_reaches_the_input():
    torch.manual_seed(0)
    net = model()
    point = net[0].output_quantizer.int_bits
    assert not point.requires_grad
    assert all(p is not point for p in net.parameters() if p.requires_grad)
    x = torch.randn(16, 4) * 3
    quantized = net[0](x)
    assert not quantized.requires_grad  # so the first layer computes no input gradient
    net(x).sum().backward()
    assert point.grad is None and net[1].weight.grad is not None


def test_the_first_training_batch_calibrates_the_point_and_it_then_stays():
    net = model()
    net.eval()
    net(torch.full((2, 4), 100.0))  # not training: nothing is fitted
    assert net[0].output_type.int_bits == 3
    net.train()
    net(torch.tensor([[5.0, -9.0, 0.5, 1.0]]))  # [-16, 16) holds [-9, 5]; [-8, 8) would not
    assert net[0].output_type == FixedType(8, 5, True, "AP_RND_CONV", "AP_SAT")
    train_step(net, torch.full((2, 4), 100.0))
    assert net[0].output_type.int_bits == 5


def test_calibrate_and_a_loaded_state_set_the_point_for_good():
    calibrated = model()
    calibrate(calibrated, torch.rand(32, 4) * 0.9)  # [0, 0.9): one integer bit, the sign's
    assert calibrated[0].output_type.int_bits == 1
    train_step(calibrated, torch.full((2, 4), 100.0))
    assert calibrated[0].output_type.int_bits == 1
    loaded = model()
    loaded.load_state_dict(calibrated.state_dict())
    train_step(loaded, torch.full((2, 4), 100.0))
    assert loaded[0].output_type.int_bits == 1


def test_the_learned_option_trains_the_point_from_the_loss():
    torch.manual_seed(0)
    net = model("learned")
    point = net[0].output_quantizer.int_bits
    x = torch.randn(16, 4) * 20  # saturates ap_fixed<8,3>: the gradient pushes the point right
    assert net[0](x).requires_grad
    train_step(net, x)
    assert point.grad is not None and point.grad.item() != 0
    assert point.item() != 3.0


def test_quantize_model_follows_the_config():
    float_model = nn.Sequential(nn.Linear(4, 3))
    default = quantize_model(float_model).get_submodule("input").output_quantizer
    learned = quantize_model(float_model, QFXConfig(input_binary_point="learned")).get_submodule("input")
    assert default.binary_point == "calibrated" and not default.int_bits.requires_grad
    assert learned.output_quantizer.int_bits.requires_grad
    with pytest.raises(ValueError, match="QFXConfig: input_binary_point must be one of learned, calibrated, fixed"):
        QFXConfig(input_binary_point="trained")
    with pytest.raises(ValueError, match="binary_point must be one of"):
        FixedQuantizer("ap_fixed<8,3>", "sometimes")


def test_a_non_finite_first_batch_is_an_error():
    with pytest.raises(ValueError, match="cannot calibrate .* on non-finite values"):
        model()(torch.full((1, 4), float("inf")))
