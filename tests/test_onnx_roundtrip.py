"""export_onnx -> load_onnx -> emulate equals the QFX model's eval forward, with ==."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from torch import nn

import fxhls
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import QInput, QLinear, QReLU, calibrate, quantize_model
from qfx_models import ResidualCNN, mlp, qfx_zoo, with_statistics


@pytest.mark.parametrize("name,model,shape", list(qfx_zoo()), ids=[name for name, _, _ in qfx_zoo()])
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
    assert np.array_equal(fxhls.emulate(tmp_path / "m.onnx", x.numpy()), expected)


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


class _Named(nn.Module):
    """Named layers, one of them (act) called twice."""

    def __init__(self):
        super().__init__()
        self.quant_in = QInput()
        self.fc1, self.act, self.fc2 = QLinear(4, 3), QReLU(), QLinear(3, 2)

    def forward(self, x):
        return self.act(self.fc2(self.act(self.fc1(self.quant_in(x)))))


def test_names_follow_the_module_paths(tmp_path):
    proto = export_onnx(_Named(), torch.randn(2, 4), tmp_path / "m.onnx")
    assert [node.name for node in proto.graph.node] == [
        "quant_in/Quantize",
        "fc1/weight/Quantize", "fc1/bias/Quantize", "fc1/Gemm", "fc1/Quantize",
        "act/Relu", "act/Quantize",
        "fc2/weight/Quantize", "fc2/bias/Quantize", "fc2/Gemm", "fc2/Quantize",
        "act_2/Relu", "act_2/Quantize",
    ]
    quant_parameters = (".scale", ".zeropt", ".bitwidth")  # each QONNX Quant's, named after it
    assert [init.name for init in proto.graph.initializer if not init.name.endswith(quant_parameters)] == \
        ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert {init.name.rsplit(".", 1)[0] for init in proto.graph.initializer if init.name.endswith(quant_parameters)} \
        == {node.name for node in proto.graph.node if node.op_type == "Quant"}
    assert all(node.output[0] == f"{node.name}:0" for node in proto.graph.node)
    assert [value.name for value in proto.graph.output] == ["act_2/Quantize:0"]
