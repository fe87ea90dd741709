"""quantize_model on models written as torchvision writes them: they convert unchanged, train,
and their export emulates exactly (==, mismatches counted): the padded 3x3 stride-2 max pool
of the ResNet stem, reused in-place ReLUs and `out += identity`, zero_init_residual, ReLU6 and
depthwise inverted residuals, SqueezeNet's ceil_mode pools and torch.cat, VGG's dropout,
x.view(x.size(0), -1) and AdaptiveAvgPool2d to a size other than 1; AlexNet's
AdaptiveAvgPool2d((6, 6)) of a 1x1 image (each value repeated), DenseNet's torch.cat over a
list built in a loop and its pre-activation BatchNorms, GoogLeNet's branches, Inception v3's
F.avg_pool2d with padding 1 (the zeros count in the divisor), MNASNet's x.mean([2, 3]) and
RegNetX's grouped convolutions. What needs ops the IR does not have (ShuffleNetV2's chunk and
channel shuffle, RegNetY's squeeze-and-excitation product of two tensors) is refused, every
node in one error, each with its source line."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import fxhls
import torchvision_style_models as tv
from fxhls.fixed import quantize
from fxhls.onnx import export_onnx
from fxhls.qfx import QFXConfig, calibrate, quantize_model

MODELS = {
    "resnet18": (tv.resnet18, (3, 32, 32)),
    "resnet34": (tv.resnet34, (3, 32, 32)),
    "resnet with Bottleneck": (tv.resnet_bottleneck, (3, 32, 32)),
    "mobilenet_v2": (tv.MobileNetV2, (3, 32, 32)),
    "squeezenet": (tv.SqueezeNet, (3, 33, 33)),
    "vgg": (tv.VGG, (3, 32, 32)),
    "alexnet (a 1x1 image to AdaptiveAvgPool2d((6, 6)))": (tv.AlexNet, (3, 63, 63)),
    "densenet": (tv.DenseNet, (3, 32, 32)),
    "googlenet": (tv.GoogLeNet, (3, 32, 32)),
    "inception v3's InceptionA and InceptionB": (tv.Inception3, (3, 32, 32)),
    "mnasnet": (tv.MNASNet, (3, 32, 32)),
    "regnet_x": (tv.regnet_x, (3, 32, 32)),
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
                              "that divide the input's or that it divides (windows of one size)")


@pytest.mark.parametrize("size, output_size", [((1, 1), (6, 6)), ((3, 3), (6, 6)), ((4, 1), (2, 3)),
                                               ((2, 8), (4, 2)), ((4, 4), (None, 8))])
def test_an_adaptive_pool_to_a_multiple_of_the_input_repeats_values_as_torch_does(size, output_size, tmp_path):
    torch.manual_seed(0)
    q = quantize_model(torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(output_size)))
    x = torch.randn(8, 2, *size)
    calibrate(q, x)
    with torch.no_grad():
        got = q.eval()(x).double()
    pool = q.get_submodule("0")
    # the windows are 1 or a power of two here: torch's float average of the quantized input is exact
    inputs = q.get_submodule("input")(x).double()
    expected = quantize(torch.nn.functional.adaptive_avg_pool2d(inputs, output_size), pool.output_type)
    assert int((got != expected).sum()) == 0
    export_onnx(q, x[:1], tmp_path / "m.onnx")
    assert int((fxhls.emulate(tmp_path / "m.onnx", x.numpy()) != got.numpy()).sum()) == 0


def test_an_average_pool_with_padding_counts_the_zeros_as_torch_does(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.AvgPool2d(2, padding=1), torch.nn.AvgPool2d((4, 2), stride=1, padding=(2, 1)))
    q = quantize_model(model)
    x = torch.randn(8, 3, 9, 10)
    calibrate(q, x)
    with torch.no_grad():
        got = q.eval()(x).double()
    inputs = q.get_submodule("input")(x).double()
    first = quantize(torch.nn.functional.avg_pool2d(inputs, 2, padding=1), q.get_submodule("0").output_type)
    # 1/4 and 1/8 are exact: torch's count_include_pad average of the quantized values is the exact one
    expected = quantize(torch.nn.functional.avg_pool2d(first, (4, 2), 1, (2, 1)), q.get_submodule("1").output_type)
    assert int((got != expected).sum()) == 0
    export_onnx(q, x[:1], tmp_path / "m.onnx")
    assert int((fxhls.emulate(tmp_path / "m.onnx", x.numpy()) != got.numpy()).sum()) == 0


class _BorderDivisors(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = torch.nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        return self.pool(x) + F.avg_pool2d(x, 2, ceil_mode=True) * 0  # line 2 of forward


def test_an_average_pool_without_count_include_pad_or_with_ceil_mode_is_refused_in_one_line():
    with pytest.raises(ValueError) as err:
        quantize_model(_BorderDivisors())
    lines = str(err.value).splitlines()
    assert lines[0] == ("quantize_model: module 'pool' (AvgPool2d) at test_qfx_convert_torchvision.py:"
                        f"{_BorderDivisors.forward.__code__.co_firstlineno + 1} has padding=1, ceil_mode=False, "
                        "count_include_pad=False, divisor_override=None; supported: ceil_mode=False, "
                        "divisor_override=None, and count_include_pad=True where padding is not 0 (one divisor: the "
                        "window's size)")
    assert lines[1].startswith("  node 'avg_pool2d' (call_function torch._C._nn.avg_pool2d) at "
                               "test_qfx_convert_torchvision.py:") and "ceil_mode=True" in lines[1]


def test_shufflenet_v2_chunk_and_channel_shuffle_are_refused_node_by_node():
    with pytest.raises(ValueError) as err:
        quantize_model(tv.ShuffleNetV2())
    lines = str(err.value).splitlines()
    shuffle_line = tv.channel_shuffle.__code__.co_firstlineno + 5  # torch.transpose(x, 1, 2)
    chunk_line = tv.ShuffleInvertedResidual.forward.__code__.co_firstlineno + 2  # x.chunk(2, dim=1)
    assert lines[0] == (f"quantize_model: node 'transpose' (call_function torch.transpose) at "
                        f"torchvision_style_models.py:{shuffle_line} is not supported")
    chunk = f"  node 'chunk' (call_method .chunk()) at torchvision_style_models.py:{chunk_line} is not supported"
    assert chunk in lines
    assert sum("transpose" in line for line in lines) == 4 and sum(".chunk()" in line for line in lines) == 2
    assert lines[-1].startswith("  supported: modules nn.Identity")


def test_regnet_y_squeeze_and_excitation_product_is_refused_node_by_node():
    with pytest.raises(ValueError) as err:
        quantize_model(tv.regnet_y())
    line = tv.SqueezeExcitation.forward.__code__.co_firstlineno + 2  # return scale * input
    assert str(err.value).splitlines() == [
        f"{'quantize_model: ' if i == 0 else '  '}node '{name}' (call_function _operator.mul) at "
        f"torchvision_style_models.py:{line} has two tensor operands; supported: multiplication or division by a "
        "number" for i, name in enumerate(["mul", "mul_1", "mul_2", "mul_3"])]
