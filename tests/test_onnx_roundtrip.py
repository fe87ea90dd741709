"""export_onnx -> load_onnx -> emulate equals the QFX model's eval forward, with ==."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from torch import nn

import fxhls
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import (QAdaptiveAvgPool2d, QAdd, QAvgPool2d, QBatchNorm1d, QBatchNorm2d, QConv2d,
                       QFlatten, QInput, QLinear, QMaxPool2d, QReLU, QSign, calibrate, quantize_model)
from qfx_models import ResidualCNN, mlp, with_statistics


class QResidualCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp, self.conv1, self.bn1 = QInput(), QConv2d(1, 4, 3, padding=1), QBatchNorm2d(4)
        self.relu1, self.conv2 = QReLU(), QConv2d(4, 4, 3, padding=1, bias=False, khot=2)
        self.bn2, self.add, self.relu2 = QBatchNorm2d(4, khot=1), QAdd(), QReLU()
        self.pool, self.avg, self.gap = QMaxPool2d(2), QAvgPool2d(1), QAdaptiveAvgPool2d(1)
        self.flat, self.fc = QFlatten(), QLinear(4, 3)

    def forward(self, x):
        y = self.relu1(self.bn1(self.conv1(self.inp(x))))
        z = self.relu2(self.add(self.bn2(self.conv2(y)), y))
        return self.fc(self.flat(self.gap(self.avg(self.pool(z)))))


def _models():
    torch.manual_seed(0)
    yield "mlp", nn.Sequential(QInput(), QLinear(16, 12), QReLU(), QLinear(12, 4)), (16,)
    yield "khot", nn.Sequential(QInput(), QLinear(16, 12, khot=2), QBatchNorm1d(12), QReLU(),
                                QLinear(12, 4, khot=1)), (16,)
    yield "narrow_acc", nn.Sequential(QInput(), QLinear(16, 8, acc="ap_fixed<10,3,AP_RND,AP_SAT>"),
                                      QReLU(), QFlatten()), (16,)
    yield "narrow_conv", nn.Sequential(QInput(), QConv2d(2, 3, 3, stride=2, padding=1,
                                                         acc="ap_fixed<9,2,AP_TRN,AP_WRAP>")), (2, 7, 7)
    yield "binary", nn.Sequential(QInput(), QConv2d(2, 4, 3, binary=True), QBatchNorm2d(4), QSign(),
                                  QFlatten(), QLinear(100, 3, binary=True, binary_scale=True)), (2, 7, 7)
    yield "cnn", with_statistics(QResidualCNN()), (1, 8, 8)
    yield "avg3", nn.Sequential(QInput(), QAvgPool2d(3), QAdaptiveAvgPool2d(1)), (1, 9, 9)


@pytest.mark.parametrize("name,model,shape", list(_models()), ids=[name for name, _, _ in _models()])
def test_emulation_equals_the_qfx_forward(name, model, shape, tmp_path):
    x = torch.randn(16, *shape) * 2
    path = tmp_path / f"{name}.onnx"
    export_onnx(model, x, path)
    onnx.checker.check_model(onnx.load(str(path)))
    model.eval()
    with torch.no_grad():
        expected = model(x).double().numpy()
    assert np.array_equal(fxhls.emulate(path, x.numpy()), expected)


@pytest.mark.parametrize("float_model,shape", [(mlp, (4, 4)), (ResidualCNN, (1, 8, 8))])
def test_converted_and_calibrated_models_emulate_exactly(float_model, shape, tmp_path):
    torch.manual_seed(1)
    model = quantize_model(with_statistics(float_model()))
    x = torch.randn(64, *shape)
    calibrate(model, x)
    export_onnx(model, x[:4], tmp_path / "m.onnx")
    with torch.no_grad():
        expected = model.eval()(x).double().numpy()
    assert np.array_equal(fxhls.emulate(tmp_path / "m.onnx", x), expected)


def test_every_tensor_gets_a_type_and_weights_carry_their_facts(tmp_path):
    model = nn.Sequential(QInput(), QLinear(4, 3, khot=2), QReLU(), QLinear(3, 2, binary=True))
    export_onnx(model, torch.randn(2, 4), tmp_path / "m.onnx")
    graph = load_onnx(tmp_path / "m.onnx")
    for node in graph.nodes:
        for name in node.outputs:
            assert graph.tensor(name).type is not None, node
    weights = [n.attrs for n in graph.nodes if n.op == "Quantize" and graph.tensor(n.inputs[0]).data is not None]
    assert weights[0]["khot"] == 2 and weights[2]["binary"] == 1
    assert str(graph.tensor(graph.outputs[0]).type) == str(model[3].output_type)
    assert graph.tensor(graph.outputs[0]).shape == (2,)
