"""Conv1D and 1-D pools, depthwise, grouped and separable convolutions, and Concat on the
channel axis, end to end, with ==.

The models of tests/layer_models.py (float PyTorch models typed at import, one with two
joined branches of two types; QFX models from quantize_model) are imported, lowered for
hardware, and run by the emulator, by C simulation of the HLS project (g++ with the
ap_fixed headers) and by co-simulation of fxhls's RTL top (Verilator, one build for all,
random back-pressure on both streams); every output is compared with `fxhls.emulation.emulate`
of the model, and the QFX models' emulation with their PyTorch forward.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from hls_build_helpers import csim_against_ir
from layer_models import exported_layer_models
from rtl_top_bank import bank_mismatches, build_bank, write_case

import fxhls
from fxhls.emulation import emulate
from fxhls.ir.passes import check_hardware_graph, lower_for_hardware
from fxhls.onnx import load_onnx

SAMPLES = 4
NAMES = ("conv1d_pools", "separable", "inception", "join_types", "qfx_sequence", "qfx_inception")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """name -> (ONNX path, load options, hardware graph, inputs (SAMPLES, *shape), torch module or None)."""
    folder = tmp_path_factory.mktemp("layer_models")
    found = {}
    for name, path, options, shape, module in exported_layer_models(folder):
        graph = lower_for_hardware(load_onnx(path, **options))
        check_hardware_graph(graph)
        x = np.random.default_rng(len(name)).normal(size=(SAMPLES, *shape)) * 2
        found[name] = (path, options, graph, x, module)
    assert tuple(found) == NAMES
    return found


def test_the_qfx_models_emulate_as_their_pytorch_forward(models):
    for name in ("qfx_sequence", "qfx_inception"):
        path, _, _, x, module = models[name]
        with torch.no_grad():
            expected = module(torch.tensor(x, dtype=torch.float32)).double().numpy()
        assert int((fxhls.emulate(path, x) != expected).sum()) == 0, name


def test_the_hardware_graphs_hold_what_the_models_claim(models):
    def nodes(name, op):
        return [node for node in models[name][2].nodes if node.op == op]

    sequence = models["conv1d_pools"][2]
    assert sequence.tensor(sequence.inputs[0]).shape == (2, 16)  # the stream keeps ONNX's (C, L)
    assert [sequence.tensor(n.inputs[1]).shape[2:] for n in nodes("conv1d_pools", "Conv")] == [(1, 3), (1, 3), (1, 1)]
    assert [n.attrs["kernel_shape"] for n in nodes("conv1d_pools", "MaxPool") + nodes("conv1d_pools", "AveragePool")] \
        == [[1, 2], [1, 2]]
    assert len(nodes("conv1d_pools", "GlobalAveragePool")) == 1
    assert [n.attrs.get("groups", 1) for n in nodes("separable", "Conv")] == [3, 1, 6, 1]
    assert [n.attrs.get("groups", 1) for n in nodes("inception", "Conv")] == [1, 1, 4, 1, 2, 1]
    assert len(nodes("inception", "Concat")) == 2  # three branches, joined two at a time
    joins = models["join_types"][2]
    assert [str(joins.tensor(n.outputs[0]).type) for n in nodes("join_types", "Concat")] == \
        ["ap_fixed<17,7>", "ap_fixed<16,6>"]  # <16,6> and <14,7> join exactly in <17,7>
    assert [n.attrs.get("groups", 1) for n in nodes("qfx_sequence", "Conv")] == [1, 4, 1, 1]


@pytest.mark.parametrize("name", NAMES)
def test_csim_equals_the_emulator(models, name, tmp_path):
    _, _, graph, x, _ = models[name]
    got, expected = csim_against_ir(graph, tmp_path, x, name)
    assert got.shape == expected.shape == (SAMPLES, *graph.tensor(graph.outputs[0]).shape)
    assert int((got != emulate(graph, x)).sum()) == 0


@pytest.fixture(scope="module")
def bank(models, tmp_path_factory):
    folder = tmp_path_factory.mktemp("layer_tops")
    cases = [write_case(name, graph, x, folder) for name, (_, _, graph, x, _) in models.items()]
    return cases, build_bank(cases, folder, "layer_bank")


@pytest.mark.parametrize("pause, seed", [(0.3, 3), (0.6, 7)])
def test_cosim_equals_the_emulator_under_back_pressure(bank, pause, seed):
    cases, build_dir = bank
    mismatches = bank_mismatches(build_dir, cases, pause=pause, seed=seed, name="layer_bank")
    assert mismatches == {case.name: 0 for case in cases}


def test_the_rtl_tops_join_with_concat_stages(bank):
    cases, _ = bank
    joins = {case.name: case.rtl.sources[-1].read_text().count("fxhls_concat #(") for case in cases}
    assert joins == {"conv1d_pools": 0, "separable": 0, "inception": 2, "join_types": 2, "qfx_sequence": 1,
                     "qfx_inception": 2}


def test_a_concat_off_the_channel_axis_is_refused_for_hardware(models):
    graph = models["inception"][2]
    concat = next(node for node in graph.nodes if node.op == "Concat")
    concat.attrs["axis"] = 1
    try:
        with pytest.raises(ValueError, match=r"^node '.*': this Concat joins along sample axis 1; hardware joins "
                                             r"along the channel axis"):
            check_hardware_graph(graph)
    finally:
        concat.attrs["axis"] = 0


def test_a_3d_convolution_is_refused_in_one_line(tmp_path):
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((2, 1, 2, 2, 2), dtype=np.float32), "w")
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv3d")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3, 3, 3])], [w])
    with pytest.raises(ValueError, match=r"^node 'conv3d' \(Conv\): only 1-D and 2-D convolutions are supported$"):
        load_onnx(helper.make_model(graph), default_type="ap_fixed<8,3>")


def test_the_dynamo_export_of_the_1d_model_emulates_as_the_torchscript_one(models, tmp_path):
    """torch's dynamo exporter writes a 1-D pooling as Unsqueeze, 2-D pooling, Squeeze."""
    from float_models import export_torch
    from layer_models import DEFAULT_TYPE, float_layer_models

    path, options, _, x, _ = models["conv1d_pools"]
    _, module, shape, _ = next(iter(float_layer_models()))
    export_torch(module, shape, tmp_path / "dynamo.onnx", dynamo=True)
    assert {"Unsqueeze", "Squeeze"} <= {node.op_type for node in onnx.load(tmp_path / "dynamo.onnx").graph.node}
    dynamo = fxhls.emulate(tmp_path / "dynamo.onnx", x, default_type=DEFAULT_TYPE)
    assert int((dynamo != fxhls.emulate(path, x, **options)).sum()) == 0
