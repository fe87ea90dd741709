"""The CNNs users train with Brevitas (`tests/cnn_zoo_models.py`: the QONNX model zoo's
ResNet-18s, MobileNet-v1, ProxylessNAS, ResNet-8s and a CloudSatNet-like CNN, small but
of the same layers and quantizers), through fxhls exactly:
- every quantized tensor's codes from the emulator == qonnx's executor's, 0 mismatches;
- a model whose first layer reads the float input builds (the host computes that layer,
  `fxhls.fixed.float32`'s host head), as does one with an input quantizer, and C
  simulation == the emulator;
- the RTL co-simulation of a depthwise, residual network == the emulator.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnn_zoo_models import SMALL, export
from quantized_tensors import compare_quantized
from fxhls.emulation import emulate
from fxhls.hls.build import build_project
from fxhls.onnx import load_onnx


@pytest.mark.parametrize("name", [*SMALL, "proxylessnas_tiny"])
def test_every_quantized_tensor_of_a_field_cnn_equals_qonnx(name, tmp_path):
    x = export(name, tmp_path / "m.onnx")
    compared = compare_quantized(tmp_path / "m.onnx", x)
    assert compared.tensors >= 8 and compared.values > 5000
    assert compared.mismatches == {}


def test_the_8_bit_resnet18_differs_from_qonnx_only_where_qonnx_float32_sum_meets_a_tie(tmp_path):
    """At 8 bits a code boundary is 16 times finer: on these inputs one accumulator's value
    lands on a tie of its quantizer (42.5000006 scales in onnxruntime's float32 sum order),
    which fxhls's exact sum, rounded once, rounds the other way; the codes after it differ
    as a consequence. Every other code of that tensor equals qonnx's."""
    x = export("bnn_resnet18_8w8a", tmp_path / "m.onnx", quantized_input=True)
    compared = compare_quantized(tmp_path / "m.onnx", x)
    assert compared.mismatches and compared.first_off_tie == 0
    assert next(iter(compared.mismatches.values())) <= 2


def test_a_depthwise_conv_reads_a_per_channel_input_scale_as_its_output_channels_scale(tmp_path):
    """MobileNet's activations are quantized per channel before each depthwise Conv."""
    export("mobilenet_v1_4b", tmp_path / "m.onnx")
    graph = load_onnx(tmp_path / "m.onnx")
    depthwise = [node for node in graph.nodes if node.op == "Conv" and node.attrs.get("groups", 1) > 1]
    per_channel = [node for node in depthwise if np.size(graph.tensor(node.inputs[0]).facts.get("scale", 1)) > 1]
    assert len(per_channel) >= 5


def test_a_batchnorm_of_32_bit_quantized_mul_and_add_is_float_work_as_qonnx_computes_it(tmp_path):
    """The power-of-two ResNet-8's Conv sums are exact fixed point, but their product with
    a 32-bit gamma is wider than float32: qonnx rounds it, so it is a float chain requantized
    by thresholds (the codes equal qonnx's: the first test), not an exact Mul."""
    export("resnet8_power_of_two", tmp_path / "m.onnx")
    ops = [node.op for node in load_onnx(tmp_path / "m.onnx").nodes]
    assert "Mul" not in ops and ops.count("MultiThreshold") >= 10


def test_a_grouped_conv_whose_input_scale_varies_within_a_group_is_refused_naming_it():
    from onnx import helper

    from float_scaled_models import model, quant

    nodes, inits = [], []
    for node, more in (quant("x", "q", np.array([0.1, 0.2, 0.3, 0.4]).reshape(1, 4, 1, 1)),
                       quant("w", "wq", 0.25)):
        nodes.append(node)
        inits += more
    nodes.append(helper.make_node("Conv", ["q", "wq"], ["y"], name="grouped", group=2, kernel_shape=[1, 1]))
    inits.append(("w", np.ones((2, 2, 1, 1))))
    with pytest.raises(ValueError) as info:
        load_onnx(model(nodes, inits, (4, 2, 2)))
    message = str(info.value)
    assert "\n" not in message and "'grouped'" in message and "0.1, 0.2, 0.3, 0.4" in message and "groups=2" in message


def _csim_equals_emulate(name, tmp_path, quantized_input=True):
    from fxhls.sim.csim import run_csim

    x = export(name, tmp_path / "m.onnx", quantized_input=quantized_input)
    out, _ = build_project(tmp_path / "m.onnx", "ultra96v2", tmp_path / "build")
    expected = emulate(tmp_path / "m.onnx", x)
    assert len(np.unique(expected)) > 2
    assert int((run_csim(out, x) != expected).sum()) == 0
    return out, x


@pytest.mark.parametrize("name", ["mobilenet_v1_4b", "resnet8_power_of_two", "resnet8_float3", "cloudsatnet"])
def test_a_field_cnn_csim_equals_emulate(name, tmp_path):
    _csim_equals_emulate(name, tmp_path)


def test_a_first_layer_on_the_float_input_is_the_host_head_and_csim_equals_emulate(tmp_path):
    """brevitas_examples' MobileNet as exported (no input quantizer): its first Conv runs on
    the host, the hardware takes the codes of the quantizer after it."""
    out, _ = _csim_equals_emulate("mobilenet_v1_4b", tmp_path, quantized_input=False)
    assert "conv" in json.loads((out / "design.json").read_text())["host"]["head"]["chain"]


def test_a_weight_rom_beyond_the_boards_block_ram_is_refused_in_one_line_naming_the_layer(tmp_path):
    """The RTL reads a depthwise Conv's window densely (zeros outside each group): the full
    MobileNet's 512-channel one takes 9.4 Mbit, more than the Ultra96-V2's 8 Mbit of BRAM."""
    from fxhls.rtl.budget import BRAM36_BITS, check_weight_memory

    export("mobilenet_v1_4b", tmp_path / "m.onnx")
    graph = load_onnx(tmp_path / "m.onnx")
    compute = [node for node in graph.nodes if node.op == "Conv" and graph.tensor(node.inputs[0]).type is not None]
    check_weight_memory(graph, compute, "board", {"bram36": 216})
    with pytest.raises(ValueError) as info:
        check_weight_memory(graph, compute, "board", {"bram36": 2})
    message = str(info.value)
    assert "\n" not in message and "/stage" in message and "(Conv)" in message and f"{2 * BRAM36_BITS:,} bits" in message


def test_a_depthwise_residual_network_rtl_cosim_equals_emulate(tmp_path):
    from fxhls.sim.rtl_cosim import cosim_design

    out, x = _csim_equals_emulate("proxylessnas_tiny", tmp_path)
    assert not (out / "rtl" / "REFUSED.txt").exists()
    y, summary = cosim_design(out, x, model=tmp_path / "m.onnx")
    assert summary["mismatches"] == 0 and len(np.unique(y)) > 2
