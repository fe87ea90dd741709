"""quantize_model on models written as torchvision writes them: they convert unchanged, train,
and their export emulates exactly (==, mismatches counted): the padded 3x3 stride-2 max pool
of the ResNet stem, reused in-place ReLUs and `out += identity`, zero_init_residual, ReLU6 and
depthwise inverted residuals, SqueezeNet's ceil_mode pools and torch.cat, VGG's dropout,
x.view(x.size(0), -1) and AdaptiveAvgPool2d to a size other than 1."""

from __future__ import annotations

import pytest
import torch

import fxhls
import torchvision_style_models as tv
from fxhls.onnx import export_onnx
from fxhls.qfx import QFXConfig, calibrate, quantize_model

MODELS = {
    "resnet18": (tv.resnet18, (3, 32, 32)),
    "resnet34": (tv.resnet34, (3, 32, 32)),
    "resnet with Bottleneck": (tv.resnet_bottleneck, (3, 32, 32)),
    "mobilenet_v2": (tv.MobileNetV2, (3, 32, 32)),
    "squeezenet": (tv.SqueezeNet, (3, 33, 33)),
    "vgg": (tv.VGG, (3, 32, 32)),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_torchvision_style_models_convert_train_and_emulate_exactly(name, tmp_path):
    torch.manual_seed(0)
    make, shape = MODELS[name]
    model = make()
    x = torch.randn(16, *shape)
    q = quantize_model(model, QFXConfig(weight_bits=6, activation_bits=8))
    calibrate(q, x)
    q.train()
    optimizer = torch.optim.Adam(q.parameters(), 1e-3)
    for _ in range(2):  # it trains
        optimizer.zero_grad()
        q(x).square().mean().backward()
        optimizer.step()
    with torch.no_grad():
        expected = q.eval()(x).double().numpy()
    export_onnx(q, x[:1], tmp_path / "m.onnx")
    got = fxhls.emulate(tmp_path / "m.onnx", x.numpy())
    assert got.shape == expected.shape
    assert int((got != expected).sum()) == 0


def test_an_adaptive_pool_that_does_not_tile_its_input_is_refused_in_one_line():
    model = tv.VGG()  # AdaptiveAvgPool2d((2, 2)) after three 2x2 pools: an input of 24x24 leaves 3x3
    q = quantize_model(model)
    with pytest.raises(ValueError) as err:
        q(torch.randn(2, 3, 24, 24))
    assert str(err.value) == ("QAdaptiveAvgPool2dTiled: output size (2, 2) of a 3x3 input; supported: output sizes "
                              "that divide the input's (windows of one size)")
