"""load_onnx refuses bad input in one line naming the node; `fxhls emulate` on .npy files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from fxhls.cli import main
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import QInput, QLinear, QReLU


def _model(node, shape=(None, 4)):
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.DOUBLE, list(shape))])
    return helper.make_model(graph)


def _one_line_error(source) -> str:
    with pytest.raises(ValueError) as info:
        load_onnx(source)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_file_that_is_not_onnx(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x00\x01 this is not a protobuf \xff" * 3)
    assert "not an ONNX model" in _one_line_error(path)


def test_an_unsupported_op_names_the_node_and_lists_the_supported_ones():
    message = _one_line_error(_model(helper.make_node("Hardmax", ["x"], ["y"], name="head")))
    assert "'head'" in message and "Hardmax" in message and "Gemm" in message and "fxhls.Quantize" in message


def test_a_dynamic_dimension_beyond_the_batch():
    message = _one_line_error(_model(helper.make_node("Relu", ["x"], ["y"], name="r"), shape=("n", "features")))
    assert "dynamic" in message and "'x'" in message


def test_cli_emulate_writes_the_forward_of_the_exported_model(tmp_path, capsys):
    torch.manual_seed(0)
    model = nn.Sequential(QInput(), QLinear(6, 5), QReLU(), QLinear(5, 2))
    x = torch.randn(10, 6) * 2
    export_onnx(model, x, tmp_path / "m.onnx")
    np.save(tmp_path / "x.npy", x.numpy())
    assert main(["emulate", str(tmp_path / "m.onnx"), "--input", str(tmp_path / "x.npy"),
                 "--output", str(tmp_path / "y.npy")]) == 0
    with torch.no_grad():
        assert np.array_equal(np.load(tmp_path / "y.npy"), model.eval()(x).double().numpy())


def test_cli_emulate_reports_a_bad_model_in_one_line(tmp_path, capsys):
    (tmp_path / "bad.onnx").write_bytes(b"\xffnot onnx")
    np.save(tmp_path / "x.npy", np.zeros((1, 4)))
    assert main(["emulate", str(tmp_path / "bad.onnx"), "--input", str(tmp_path / "x.npy"),
                 "--output", str(tmp_path / "y.npy")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "y.npy").exists()


@pytest.mark.parametrize("inputs,message", [
    (np.zeros((3, 5)), "inputs must be a batch of shape (batch, 6), got (3, 5)"),
    (np.zeros(6), "inputs must be a batch of shape (batch, 6), got (6,)"),
    (np.array([["a"] * 6]), "holds <U1 values; the inputs must be real numbers"),
])
def test_cli_emulate_reports_bad_inputs_in_one_line(inputs, message, tmp_path, capsys):
    export_onnx(nn.Sequential(QInput(), QLinear(6, 2)), torch.randn(2, 6), tmp_path / "m.onnx")
    np.save(tmp_path / "x.npy", inputs)
    assert main(["emulate", str(tmp_path / "m.onnx"), "--input", str(tmp_path / "x.npy"),
                 "--output", str(tmp_path / "y.npy")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "y.npy").exists()


def test_export_refuses_an_op_outside_qfx_layers(tmp_path):
    model = nn.Sequential(QInput(), nn.Linear(4, 4), QReLU())
    with pytest.raises(ValueError, match=r"module .1. \(Linear\) changes values outside a QFX layer"):
        export_onnx(model, torch.randn(2, 4), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_export_is_reachable_from_the_training_package():
    import fxhls.onnx.export
    import fxhls.qfx

    assert fxhls.qfx.export_onnx is fxhls.onnx.export.export_onnx
