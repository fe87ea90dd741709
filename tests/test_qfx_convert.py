"""quantize_model: the converted model is the one we would build by hand from Q layers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fxhls.fixed import FixedType
from fxhls.qfx import (
    QAdaptiveAvgPool2d,
    QAdd,
    QBatchNorm2d,
    QConv2d,
    QFlatten,
    QFXConfig,
    QInput,
    QLinear,
    QMaxPool2d,
    QReLU,
    quantize_model,
)
from fxhls.qfx.elementwise import DEFAULT_ACTIVATION, DEFAULT_BN_SCALE, DEFAULT_BN_SHIFT, DEFAULT_INPUT, DEFAULT_SUM
from fxhls.qfx.weighted import DEFAULT_BIAS, DEFAULT_OUTPUT, DEFAULT_WEIGHT
from qfx_models import ResidualCNN, mlp, with_statistics

CONFIG = QFXConfig(weight_bits=6, bias_bits=12, activation_bits=7, input_bits=9, input_signed=False)


def typed(width: int, default: str, signed: bool | None = None) -> FixedType:
    """What a converted layer starts with: `width` bits, the default type's binary point,
    CONFIG's modes."""
    start = FixedType.parse(default)
    return FixedType(width, start.int_bits, start.signed if signed is None else signed, "AP_RND_CONV", "AP_SAT")


WEIGHTS = dict(weight=typed(6, DEFAULT_WEIGHT), bias_type=typed(12, DEFAULT_BIAS), output=typed(7, DEFAULT_OUTPUT))
INPUT = typed(9, DEFAULT_INPUT, signed=False)
RELU = typed(7, DEFAULT_ACTIVATION)


def executed_layers(model: torch.fx.GraphModule) -> list[tuple[str, type]]:
    return [(node.target, type(model.get_submodule(node.target)))
            for node in model.graph.nodes if node.op == "call_module"]


def test_mlp_structure_weights_and_outputs():
    torch.manual_seed(0)
    float_model = mlp()
    q = quantize_model(float_model, CONFIG)
    assert executed_layers(q) == [("input", QInput), ("0", QFlatten), ("1", QLinear), ("2", QReLU), ("3", QLinear)]
    assert [type(m) for m in float_model] == [nn.Flatten, nn.Linear, nn.ReLU, nn.Linear]  # left unchanged
    for i in (1, 3):
        assert torch.equal(q.get_submodule(str(i)).weight, float_model[i].weight)
        assert torch.equal(q.get_submodule(str(i)).bias, float_model[i].bias)

    hand = nn.Sequential(QInput(INPUT), QFlatten(), QLinear(16, 12, **WEIGHTS), QReLU(RELU), QLinear(12, 4, **WEIGHTS))
    with torch.no_grad():
        for i in (2, 4):
            hand[i].weight.copy_(float_model[i - 1].weight)
            hand[i].bias.copy_(float_model[i - 1].bias)
    x = torch.rand(64, 4, 4) * 3
    expected = hand(x)
    assert expected.abs().sum() > 0
    assert torch.equal(q(x), expected)


class HandCNN(nn.Module):
    """ResidualCNN built from Q layers by hand, with the types CONFIG should give it."""

    def __init__(self):
        super().__init__()
        sums = dict(output=typed(7, DEFAULT_SUM), scale_type=typed(6, DEFAULT_BN_SCALE),
                    shift_type=typed(12, DEFAULT_BN_SHIFT))
        self.input = QInput(INPUT)
        self.conv1, self.bn1, self.relu = QConv2d(1, 4, 3, padding=1, **WEIGHTS), QBatchNorm2d(4, **sums), QReLU(RELU)
        self.conv2, self.bn2 = QConv2d(4, 4, 3, padding=1, bias=False, **WEIGHTS), QBatchNorm2d(4, **sums)
        self.add, self.relu_1 = QAdd(typed(7, DEFAULT_SUM, signed=True)), QReLU(RELU)
        self.pool = QMaxPool2d(2)
        self.gap = QAdaptiveAvgPool2d(1, output=typed(7, DEFAULT_SUM, signed=False))  # after a ReLU
        self.flatten, self.fc = QFlatten(1), QLinear(4, 3, **WEIGHTS)

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(self.input(x))))
        z = self.relu_1(self.add(self.bn2(self.conv2(y)), y))
        return self.fc(self.flatten(self.gap(self.pool(z))))


def test_cnn_with_batchnorm_and_residual_add():
    torch.manual_seed(1)
    float_model = with_statistics(ResidualCNN()).eval()
    q = quantize_model(float_model, CONFIG)
    assert executed_layers(q) == [
        ("input", QInput), ("conv1", QConv2d), ("bn1", QBatchNorm2d), ("relu", QReLU),
        ("conv2", QConv2d), ("bn2", QBatchNorm2d), ("add", QAdd), ("relu_1", QReLU),
        ("pool", QMaxPool2d), ("gap", QAdaptiveAvgPool2d), ("flatten", QFlatten), ("fc", QLinear),
    ]
    add = next(node for node in q.graph.nodes if node.target == "add")
    assert [arg.target for arg in add.args] == ["bn2", "relu"]
    assert not q.training

    hand = HandCNN().eval()
    hand.load_state_dict(float_model.state_dict(), strict=False)
    for name, tensor in float_model.state_dict().items():
        assert torch.equal(q.state_dict()[name], tensor), name
    x = torch.rand(16, 1, 8, 8) * 2
    expected = hand(x)
    assert expected.abs().sum() > 0
    assert torch.equal(q(x), expected)


def test_config_sets_widths_modes_khot_and_overrides():
    config = QFXConfig(weight_bits=5, activation_bits=6, khot=2, rounding="AP_TRN", overflow="AP_WRAP",
                       layers={"3": {"activation_bits": 12, "khot": None}})
    q = quantize_model(mlp(), config)
    first, last = q.get_submodule("1"), q.get_submodule("3")
    assert (first.weight_type.width, first.output_type.width, first.khot) == (5, 6, 2)
    assert (last.weight_type.width, last.output_type.width, last.khot) == (5, 12, None)
    assert (first.output_type.rounding, first.output_type.overflow) == ("AP_TRN", "AP_WRAP")
    assert q.get_submodule("input").output_type.signed  # input_signed defaults to True
    assert not q.get_submodule("2").output_type.signed


class Gaussian(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.GELU()

    def forward(self, x):
        return self.act(self.fc(x))


class Functional(nn.Module):
    def forward(self, x):
        return torch.sin(x)


class AddsConstant(nn.Module):
    def forward(self, x):
        return x + 1


class Dilated(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, dilation=2)

    def forward(self, x):
        return self.conv(x)


class SharedLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(self.fc(x))


@pytest.mark.parametrize("model, message", [
    (Gaussian(), r"module 'act' \(GELU\) at test_qfx_convert.py:\d+ is not supported; supported: modules .*nn.Linear"),
    (Functional(), r"node 'sin' \(call_function torch.sin\) at test_qfx_convert.py:\d+ is not supported"),
    (AddsConstant(), r"node 'add' \(call_function _operator.add\) at test_qfx_convert.py:\d+ has a constant operand; supported: adds of two tensors"),
    (Dilated(), r"module 'conv' \(Conv2d\) at test_qfx_convert.py:\d+ has .*dilation=\(2, 2\).*supported: .*dilation=1"),
    (SharedLinear(), r"module 'fc' \(Linear\) is called 2 times"),
])
def test_unsupported_models_name_the_node(model, message):
    with pytest.raises(ValueError, match=message):
        quantize_model(model)


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match=r"config.layers names \['fc9'\], which match no layer"):
        quantize_model(mlp(), {"layers": {"fc9": {"weight_bits": 4}}})
    with pytest.raises(ValueError, match=r"QFXConfig: unknown fields \['wieght_bits'\]"):
        quantize_model(mlp(), {"wieght_bits": 4})
    with pytest.raises(ValueError, match=r"QFXConfig: weight_bits must be an integer >= 2"):
        QFXConfig(weight_bits=1)


class SharedReLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.relu = nn.Linear(4, 4), nn.Linear(4, 4), nn.ReLU()

    def forward(self, x):
        return self.relu(self.fc2(self.relu(self.fc1(x))))


def test_a_shared_relu_becomes_one_layer_per_call():
    q = quantize_model(SharedReLU())
    assert executed_layers(q) == [("input", QInput), ("fc1", QLinear), ("relu", QReLU), ("fc2", QLinear),
                                  ("relu_1", QReLU)]
    assert q.get_submodule("relu") is not q.get_submodule("relu_1")


class Spellings(nn.Module):
    """The same network with each supported spelling of add, relu and flatten."""

    def __init__(self, spelling: int):
        super().__init__()
        self.fc, self.spelling = nn.Linear(4, 4), spelling

    def forward(self, x):
        y = self.fc(x)
        if self.spelling == 0:
            return torch.flatten(torch.relu(torch.add(y, x)), 1)
        return y.add(x).relu().flatten(1)


@pytest.mark.parametrize("spelling", [0, 1])
def test_function_and_method_spellings(spelling):
    q = quantize_model(Spellings(spelling))
    assert [kind for _, kind in executed_layers(q)] == [QInput, QLinear, QAdd, QReLU, QFlatten]
    assert q(torch.rand(3, 4)).shape == (3, 4)


@pytest.mark.parametrize("k", [0, 1.5, True])
def test_config_refuses_a_bad_k(k):
    with pytest.raises(ValueError, match=r"^QFXConfig: K-hot needs an integer K >= 1"):
        QFXConfig(khot=k)
