"""quantize_model on the idioms of everyday PyTorch (torchvision style): the converted
model trains, and its export emulates exactly (==); every unsupported part of a model
is named, with its source line, in one error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import fxhls
from fxhls.onnx import export_onnx
from fxhls.qfx import QAdaptiveAvgPool2d, QConv2d, QFXConfig, QMaxPool2d, calibrate, quantize_model
from fxhls.qfx.reshape import QReshape, QScale
from onnx_runners import run_onnxruntime
from qfx_models import with_statistics


class Everyday(nn.Module):
    """'same' padding, an in-place ReLU, Identity, Dropout and F.dropout, F.max_pool2d,
    F.avg_pool2d, F.adaptive_avg_pool2d, x.mean((2, 3)), view and reshape with sizes from
    .size() and .shape, multiplication and division by numbers."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 4, 3, padding="same", bias=False), nn.BatchNorm2d(4)
        self.relu, self.skip, self.drop = nn.ReLU(inplace=True), nn.Identity(), nn.Dropout(0.2)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc1, self.fc2 = nn.Linear(16, 3), nn.Linear(4, 3)

    def forward(self, x):
        y = F.max_pool2d(self.skip(self.relu(self.bn1(self.conv1(x)))), 2)  # (N, 4, 4, 4)
        z = F.relu(self.conv2(y)) * 0.75 + y
        pooled = F.adaptive_avg_pool2d(z, 1).view(z.size(0), -1) + z.mean((2, 3))
        rows = F.avg_pool2d(z, 2).reshape(z.shape[0], -1)
        return self.fc1(F.dropout(self.drop(rows), 0.1, self.training)) + self.fc2(pooled) / 4


def test_everyday_idioms_convert_train_and_emulate_exactly(tmp_path):
    torch.manual_seed(0)
    q = quantize_model(with_statistics(Everyday()), QFXConfig(weight_bits=6, activation_bits=8))
    kinds = [type(q.get_submodule(n.target)) for n in q.graph.nodes if n.op == "call_module"]
    assert kinds.count(QScale) == 2 and kinds.count(QReshape) == 2 and kinds.count(QMaxPool2d) == 1
    assert kinds.count(QAdaptiveAvgPool2d) == 2
    assert q.get_submodule("conv1").padding == (1, 1) and isinstance(q.get_submodule("conv1"), QConv2d)
    assert not any(isinstance(m, (nn.Identity, nn.Dropout)) for m in q.modules())

    x = torch.randn(32, 1, 8, 8)
    calibrate(q, x)
    q.train()
    q(x).square().mean().backward()  # it trains
    assert q.get_submodule("conv1").weight.grad is not None

    proto = export_onnx(q, x[:1], tmp_path / "m.onnx")
    with torch.no_grad():
        expected = q.eval()(x).double().numpy()
    assert np.array_equal(fxhls.emulate(tmp_path / "m.onnx", x.numpy()), expected)
    assert np.array_equal(run_onnxruntime(proto, x.numpy()), expected)


def test_a_constant_multiplier_keeps_its_value_exactly():
    class Scaled(nn.Module):
        def forward(self, x):
            return (2.5 * x).div(0.5)

    q = quantize_model(Scaled())
    scales = [m for m in q.modules() if isinstance(m, QScale)]
    assert [float(m.quantized_constant().detach()) for m in scales] == [2.5, 2.0]


class _ManyUnsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, dilation=2)
        self.act = nn.GELU()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        y = self.act(self.conv(x))
        return self.fc(torch.sin(y.mean((2, 3))))


def test_every_unsupported_part_is_named_in_one_error():
    with pytest.raises(ValueError) as err:
        quantize_model(_ManyUnsupported())
    lines = str(err.value).splitlines()
    assert len(lines) == 4, lines  # each part, then what is supported, once
    source = open(__file__).read().splitlines()
    line_of = {text: n for n, line in enumerate(source, 1) for text in ("self.act(self.conv(x))", "torch.sin(")
               if text in line and "line_of" not in line}
    assert lines[0].startswith("quantize_model: module 'conv' (Conv2d) at "
                               f"test_qfx_convert_idioms.py:{line_of['self.act(self.conv(x))']} has padding=(0, 0), "
                               "padding_mode='zeros', dilation=(2, 2)")
    assert lines[1].startswith("  module 'act' (GELU) at test_qfx_convert_idioms.py:"
                               f"{line_of['self.act(self.conv(x))']} is not supported")
    assert lines[1].endswith("is not supported")
    assert lines[2] == f"  node 'sin' (call_function torch.sin) at test_qfx_convert_idioms.py:{line_of['torch.sin(']} " \
                      "is not supported"
    assert lines[3].startswith("  supported: modules nn.Identity, nn.Dropout")


@pytest.mark.parametrize("padding", ["same", "valid", 1])
def test_same_and_valid_padding_are_the_numeric_padding(padding):
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, padding=padding)
    q = quantize_model(nn.Sequential(conv))
    assert q.get_submodule("0").padding == {"same": (1, 1), "valid": (0, 0), 1: (1, 1)}[padding]


def test_same_padding_that_is_not_symmetric_is_refused():
    with pytest.raises(ValueError, match=r"module '0' \(Conv2d\) has .*padding='same'.*symmetric 'same'"):
        quantize_model(nn.Sequential(nn.Conv2d(2, 3, 4, padding="same")))


class Separable(nn.Module):
    """A depthwise (groups=C) and a grouped convolution, then a pointwise one."""

    def __init__(self):
        super().__init__()
        self.depthwise = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.grouped = nn.Conv2d(4, 6, 3, groups=2, bias=False)
        self.pointwise = nn.Conv2d(6, 3, 1)

    def forward(self, x):
        return self.pointwise(F.relu(self.grouped(F.relu(self.depthwise(x)))))


class Sequence(nn.Module):
    """Conv1d with 'same' padding, a depthwise Conv1d with a stride, a classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(2, 4, 3, padding="same")
        self.conv2 = nn.Conv1d(4, 4, 3, stride=2, groups=4)
        self.fc = nn.Linear(4 * 4, 3)

    def forward(self, x):
        return self.fc(torch.flatten(F.relu(self.conv2(F.relu(self.conv1(x)))), 1))


@pytest.mark.parametrize("float_model,shape", [(Separable, (4, 6, 6)), (Sequence, (2, 10))])
def test_grouped_and_one_dimensional_convolutions_emulate_exactly(float_model, shape, tmp_path):
    torch.manual_seed(0)
    model = float_model()
    q = quantize_model(model, QFXConfig(weight_bits=5, activation_bits=6))
    x = torch.randn(64, *shape)
    calibrate(q, x)
    with torch.no_grad():
        assert (q(x) - model(x)).abs().max() < 1  # the float model's function, quantized
        expected = q.eval()(x).double().numpy()
    proto = export_onnx(q, x[:2], tmp_path / "m.onnx")
    assert np.array_equal(fxhls.emulate(tmp_path / "m.onnx", x.numpy()), expected)
    assert np.array_equal(run_onnxruntime(proto, x.numpy()), expected)


def test_a_narrowed_conv1d_accumulator_is_emulated_in_hls_order(tmp_path):
    from fxhls.qfx import QConv1d, QInput

    torch.manual_seed(0)
    model = nn.Sequential(QInput(), QConv1d(2, 3, 3, stride=2, padding=1, acc="ap_fixed<9,2,AP_TRN,AP_WRAP>"))
    x = torch.randn(32, 2, 9) * 2
    export_onnx(model, x[:1], tmp_path / "m.onnx")
    with torch.no_grad():
        expected = model.eval()(x).double().numpy()
    assert np.array_equal(fxhls.emulate(tmp_path / "m.onnx", x.numpy()), expected)


class Joined(nn.Module):
    """nn.ReLU6 and F.relu6 (clipping), nn.LeakyReLU and F.leaky_relu, torch.cat on channels
    and on the last axis."""

    def __init__(self):
        super().__init__()
        self.conv_a, self.conv_b = nn.Conv2d(2, 3, 3, padding=1), nn.Conv2d(2, 2, 3, padding=1)
        self.act6, self.leaky = nn.ReLU6(), nn.LeakyReLU(0.1)
        self.fc = nn.Linear(5 * 4 * 8, 3)

    def forward(self, x):
        y = torch.cat([self.act6(self.conv_a(x) * 4), F.leaky_relu(self.conv_b(x), 0.2)], dim=1)
        return self.fc(torch.cat((F.relu6(y * 8), self.leaky(y)), -1).flatten(1))


def test_relu6_leaky_relu_and_concatenation_emulate_exactly(tmp_path):
    from fxhls.qfx.relu_variants import QLeakyReLU, QReLU6
    from fxhls.qfx.reshape import QConcat

    torch.manual_seed(0)
    q = quantize_model(Joined(), QFXConfig(weight_bits=6, activation_bits=8))
    kinds = [type(q.get_submodule(n.target)) for n in q.graph.nodes if n.op == "call_module"]
    assert [kinds.count(k) for k in (QReLU6, QLeakyReLU, QConcat)] == [2, 2, 2]
    x = torch.randn(64, 2, 4, 4)
    calibrate(q, x)
    with torch.no_grad():
        expected = q.eval()(x).double().numpy()
        six = q.get_submodule("act6")(torch.full((1,), 9.0))
    assert float(six) == 6.0  # it clips
    proto = export_onnx(q, x[:2], tmp_path / "m.onnx")
    assert np.array_equal(fxhls.emulate(tmp_path / "m.onnx", x.numpy()), expected)
    assert np.array_equal(run_onnxruntime(proto, x.numpy()), expected)


class _InPlaceAliases(nn.Module):
    """Eager PyTorch changes a tensor in place for every name that holds it: `identity`
    holds the ReLU's result, `skip` the sum after `+=`, `y` the product after `.mul_`."""

    def __init__(self):
        super().__init__()
        self.conv0, self.conv1, self.conv2 = (nn.Conv2d(c, 4, 3, padding=1) for c in (2, 4, 4))
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        x = self.conv0(x)
        identity = x
        self.relu(x)
        x = self.conv1(x)
        skip = x
        x += identity
        y = self.conv2(skip)
        y.mul_(0.5)
        F.relu(y, inplace=True)
        y.relu_()
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


class _OutOfPlace(_InPlaceAliases):
    """The same computation written out of place."""

    def forward(self, x):
        x = F.relu(self.conv0(x))
        x = self.conv1(x) + x
        y = F.relu(F.relu(self.conv2(x) * 0.5))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


def test_in_place_changes_reach_every_reader_of_the_tensor(tmp_path):
    torch.manual_seed(0)
    in_place, out_of_place = _InPlaceAliases().eval(), _OutOfPlace().eval()
    out_of_place.load_state_dict(in_place.state_dict())
    x = torch.randn(32, 2, 6, 6)
    with torch.no_grad():
        assert torch.equal(in_place(x.clone()), out_of_place(x))  # what eager PyTorch computes
    config = QFXConfig(weight_bits=6, activation_bits=8)
    q, expected_q = quantize_model(in_place, config), quantize_model(out_of_place, config)
    for model in (q, expected_q):
        calibrate(model, x)
    with torch.no_grad():
        got, expected = q.eval()(x), expected_q.eval()(x)
    assert int((got != expected).sum()) == 0
    export_onnx(q, x[:1], tmp_path / "m.onnx")
    assert np.array_equal(fxhls.emulate(tmp_path / "m.onnx", x.numpy()), got.double().numpy())


class _ViewChangedInPlace(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(2, 4, 3, padding=1), nn.Linear(4 * 36, 3)

    def forward(self, x):
        y = self.conv(x)
        rows = y.view(y.size(0), -1)
        F.relu(y, inplace=True)
        return self.fc(rows)


def test_an_in_place_change_seen_through_a_view_is_refused_in_one_line():
    with pytest.raises(ValueError) as err:
        quantize_model(_ViewChangedInPlace())
    source = open(__file__).read().splitlines()
    view_line = next(n for n, text in enumerate(source, 1) if "rows = y.view(" in text)
    relu_line = view_line + 1
    assert str(err.value).startswith(
        f"quantize_model: node 'relu' (call_function torch.nn.functional.relu) at test_qfx_convert_idioms.py:"
        f"{relu_line} changes in place a tensor that 'view' (at test_qfx_convert_idioms.py:{view_line}) also holds "
        "and that is read after it")
    assert "\n" not in str(err.value)


class _Means(nn.Module):
    """`reduce(features)` of a conv's (N, 4, H, W) or Conv1d's (N, 4, L) output, then a classifier."""

    def __init__(self, reduce, one_dimensional: bool, features: int):
        super().__init__()
        self.reduce = reduce
        self.conv = nn.Conv1d(2, 4, 3, padding=1) if one_dimensional else nn.Conv2d(2, 4, 3, padding=1)
        self.fc = nn.Linear(features, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.reduce(F.relu(self.conv(x))), 1))


MEANS = {  # the reduction, whether over a sequence, the features it leaves
    "x.mean(-1).mean(-1)": (lambda y: y.mean(-1).mean(-1), False, 4),
    "x.mean(3).mean(2)": (lambda y: y.mean(3).mean(2), False, 4),
    "x.mean(2) rows": (lambda y: y.mean(2), False, 4 * 6),
    "x.mean(-1, keepdim=True)": (lambda y: y.mean(dim=-1, keepdim=True), False, 4 * 5),
    "torch.mean(x, 2, keepdim=True)": (lambda y: torch.mean(y, 2, keepdim=True), False, 4 * 6),
    "pool, squeeze(-1).squeeze(-1)": (lambda y: F.adaptive_avg_pool2d(y, 1).squeeze(-1).squeeze(-1), False, 4),
    "pool, torch.squeeze(x, (2, 3))": (lambda y: torch.squeeze(F.adaptive_avg_pool2d(y, 1), (2, 3)), False, 4),
    "sequence x.mean(-1)": (lambda y: y.mean(-1), True, 4),
    "sequence x.mean(2, keepdim=True)": (lambda y: y.mean(2, keepdim=True), True, 4),
    "sequence unsqueeze(2).flatten(2)": (lambda y: y.unsqueeze(2).flatten(2).mean(-1), True, 4),
}


@pytest.mark.parametrize("idiom", list(MEANS))
def test_means_over_one_axis_and_squeezes_convert_and_emulate_exactly(idiom, tmp_path):
    torch.manual_seed(0)
    reduce, one_dimensional, features = MEANS[idiom]
    model = _Means(reduce, one_dimensional, features).eval()
    x = torch.randn(16, 2, 7) if one_dimensional else torch.randn(16, 2, 5, 6)
    q = quantize_model(model, QFXConfig(weight_bits=12, activation_bits=16))
    calibrate(q, x)
    with torch.no_grad():
        expected = q.eval()(x)
        assert (expected - model(x)).abs().max() < 0.02  # the float model's function: the right axes
    export_onnx(q, x[:1], tmp_path / "m.onnx")
    got = fxhls.emulate(tmp_path / "m.onnx", x.numpy())
    assert int((got != expected.double().numpy()).sum()) == 0


def test_a_mean_over_the_channels_is_refused_when_the_rank_shows_it():
    from fxhls.qfx import QMean

    q = quantize_model(_Means(lambda y: y.mean(-2), True, 7))  # (N, C, L).mean(-2): over the channels
    assert any(isinstance(m, QMean) for m in q.modules())
    with pytest.raises(ValueError, match=r"^QMean: dim=-2 of a tensor of 3 axes; it averages an axis after the "
                                         r"channels of \(N, C, L\) or \(N, C, H, W\)$"):
        q(torch.randn(2, 2, 7))
