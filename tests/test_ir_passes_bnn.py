"""fold_bnn_thresholds and the Threshold op: binary layers' BatchNorm + Sign as integer
comparisons, equal (==) to the graph before and to the QFX model, on random inputs and
on every binary input of small layers (which hits every threshold and its neighbours)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from fxhls.fixed import BINARY_TYPE
from fxhls.ir import Graph, Node, Tensor, execute, lower_for_hardware
from fxhls.ir.ops import OPS
from fxhls.ir.passes import check_hardware_graph
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import QBatchNorm1d, QBatchNorm2d, QConv2d, QFlatten, QInput, QLinear, QMaxPool2d, QSign
from qfx_models import qfx_zoo


def _with_signed_batchnorms(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random BatchNorm statistics, scales of both signs, and channel 0's scale zero."""
    generator = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (QBatchNorm1d, QBatchNorm2d)):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=generator) * 3 - 1.5)
                m.weight[0] = 0.0
                m.bias.copy_(torch.rand(m.bias.shape, generator=generator) * 2 - 1)
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=generator) * 6 - 3)
    return model.eval()


def _lowered(model, x, tmp_path):
    """(graph as loaded, graph after lower_for_hardware) of `model` exported on `x`."""
    export_onnx(model, x[:2], tmp_path / "model.onnx")
    return load_onnx(tmp_path / "model.onnx"), lower_for_hardware(load_onnx(tmp_path / "model.onnx"))


def _check_equal(model, x, tmp_path) -> Graph:
    before, after = _lowered(model, x, tmp_path)
    expected = execute(before, x.numpy())[0]
    got = execute(after, x.numpy())[0]
    assert int((got != expected).sum()) == 0
    assert int((got != model(x.double()).detach().numpy()).sum()) == 0
    return check_hardware_graph(after)


def _all_binary_inputs(shape) -> torch.Tensor:
    """Every input of -1 and +1 of this sample shape (2**size samples)."""
    size = torch.Size(shape).numel()
    return torch.tensor(list(itertools.product((-1.0, 1.0), repeat=size)), dtype=torch.float64).view(-1, *shape)


def _ops(graph):
    return [node.op for node in graph.nodes]


def test_deep_bnn_with_negative_and_zero_scales(tmp_path):
    torch.manual_seed(1)
    model = _with_signed_batchnorms(nn.Sequential(
        QInput(), QConv2d(2, 8, 3, padding=1, binary=True), QBatchNorm2d(8), QSign(),
        QConv2d(8, 8, 3, padding=1, binary=True), QBatchNorm2d(8), QSign(), QMaxPool2d(2),
        QConv2d(8, 6, 3, binary=True, bias=False), QBatchNorm2d(6), QSign(), QFlatten(),
        QLinear(24, 10, binary=True), QBatchNorm1d(10), QSign(), QLinear(10, 3, binary=True, binary_scale=True)))
    graph = _check_equal(model, torch.randn(256, 2, 8, 8), tmp_path)
    # The first conv's input is not binary: its BatchNorm and Sign stay.
    assert _ops(graph) == ["Quantize", "Conv", "Affine", "Sign", "Conv", "Threshold", "MaxPool", "Conv",
                           "Threshold", "Flatten", "Gemm", "Threshold", "Gemm", "Affine"]
    for node in [n for n in graph.nodes if n.op == "Threshold"]:
        layer = graph.producer(node.inputs[0])
        assert len(layer.inputs) == 2 and "out_type" not in layer.attrs, "bias and cast went into the thresholds"
        thresholds = graph.tensor(node.inputs[1])
        assert thresholds.type.frac_bits == 0 and (thresholds.data == np.round(thresholds.data)).all()
        assert graph.tensor(node.outputs[0]).type == BINARY_TYPE
        assert set(node.attrs["direction"]) == {1, -1}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cast", ["ap_fixed<16,6,AP_RND_CONV,AP_SAT>", "ap_fixed<5,3,AP_RND,AP_SAT>",
                                  "ap_ufixed<3,2,AP_TRN,AP_SAT>"])
def test_every_binary_input_of_a_dense_layer(bias, cast, tmp_path):
    torch.manual_seed(2)
    model = _with_signed_batchnorms(nn.Sequential(
        QInput(), QSign(), QLinear(11, 12, bias=bias, binary=True, output=cast),
        QBatchNorm1d(12, output="ap_fixed<6,3,AP_RND_CONV,AP_SAT>"), QSign()))
    x = _all_binary_inputs((11,))
    graph = _check_equal(model, x, tmp_path)
    assert _ops(graph) == ["Quantize", "Sign", "Gemm", "Threshold"]
    weights = graph.tensor(graph.nodes[2].inputs[1]).data
    sums = x.numpy() @ weights.T
    thresholds = graph.tensor(graph.nodes[3].inputs[1]).data
    for channel, threshold in enumerate(thresholds.tolist()):
        if -11 < threshold <= 11:
            assert {threshold, threshold - 2} <= set(sums[:, channel].tolist()), "the edge is hit"


def test_every_binary_input_of_a_padded_conv(tmp_path):
    # one input channel: 4, 6 or 9 products per position, sums of both parities
    torch.manual_seed(3)
    model = _with_signed_batchnorms(nn.Sequential(
        QInput(), QSign(), QConv2d(1, 6, 3, padding=1, binary=True), QBatchNorm2d(6), QSign()))
    graph = _check_equal(model, _all_binary_inputs((1, 3, 3)), tmp_path)
    assert _ops(graph) == ["Quantize", "Sign", "Conv", "Threshold"]


def test_a_wrapping_cast_is_not_folded(tmp_path):
    torch.manual_seed(4)
    x = _all_binary_inputs((10,))
    folded = {}
    for overflow in ("AP_WRAP", "AP_SAT"):
        model = _with_signed_batchnorms(nn.Sequential(
            QInput(), QSign(), QLinear(10, 4, binary=True, output=f"ap_fixed<4,2,AP_TRN,{overflow}>"),
            QBatchNorm1d(4), QSign()))
        folded[overflow] = "Threshold" in _ops(_check_equal(model, x, tmp_path))
    assert folded == {"AP_WRAP": False, "AP_SAT": True}


def test_scaled_binary_weights_fold_with_their_scale_narrowed_accumulators_do_not(tmp_path):
    torch.manual_seed(5)
    model = _with_signed_batchnorms(nn.Sequential(
        QInput(), QSign(), QLinear(8, 4, binary=True, binary_scale=True), QBatchNorm1d(4), QSign(),
        QLinear(4, 4, binary=True, acc="ap_fixed<3,3,AP_TRN,AP_SAT>"), QBatchNorm1d(4), QSign()))
    graph = _check_equal(model, _all_binary_inputs((8,)), tmp_path)
    assert _ops(graph) == ["Quantize", "Sign", "Gemm", "Threshold", "Gemm", "Affine", "Sign"]


def test_the_zoo_binary_model_keeps_its_sign_and_splits_its_scaled_layer(tmp_path):
    # the conv's input is not binary; its BatchNorm is the identity; the classifier has binary_scale
    _, model, shape = next(entry for entry in qfx_zoo() if entry[0] == "binary")
    graph = _check_equal(model.eval(), torch.randn(64, *shape), tmp_path)
    assert _ops(graph) == ["Quantize", "Conv", "Sign", "Flatten", "Gemm", "Affine"]
    signs, alpha = (graph.tensor(name) for name in (graph.nodes[4].inputs[1], graph.nodes[5].inputs[1]))
    assert signs.facts == {"binary": True} and set(np.unique(signs.data).tolist()) == {-1.0, 1.0}
    assert (alpha.data > 0).all() and "out_type" in graph.nodes[5].attrs


@pytest.mark.parametrize("bias", [True, False])
def test_a_scaled_binary_conv_splits_into_signs_and_scale(bias, tmp_path):
    torch.manual_seed(6)
    model = nn.Sequential(QInput(), QConv2d(2, 4, 3, padding=1, bias=bias, binary=True, binary_scale=True)).eval()
    graph = _check_equal(model, torch.randn(64, 2, 6, 6) * 3, tmp_path)
    assert _ops(graph) == ["Quantize", "Conv", "Affine"]
    assert graph.tensor(graph.nodes[2].inputs[1]).shape == (4, 1, 1)


def test_threshold_op_compares_per_channel():
    x = np.array([[[-3.0], [-3.0], [5.0]], [[0.0], [1.0], [6.0]]])  # (2, 3, 1)
    node = Node("Threshold", "t", ["x", "thr"], ["y"], {"direction": [1, -1, 1]})
    thresholds = np.array([0.0, 0.0, 6.0])
    (y,) = OPS["Threshold"].execute(node, [x, thresholds])
    assert y.tolist() == [[[-1.0], [1.0], [-1.0]], [[1.0], [-1.0], [1.0]]]
    inputs = [Tensor("x", (3, 1)), Tensor("thr", (3,), None, thresholds)]
    assert OPS["Threshold"].infer(node, inputs) == [((3, 1), BINARY_TYPE)]
    with pytest.raises(ValueError, match="'t': Threshold needs 3 thresholds"):
        OPS["Threshold"].infer(Node("Threshold", "t", ["x", "thr"], ["y"], {"direction": [1]}), inputs)
