"""A zero Pad before a MaxPool or AveragePool folds into the pool's padding (`fold_pads`), as
it does into a Conv's, so the hardware builds torch's padded pools (the ResNet stem's
MaxPool2d(3, 2, padding=1), Inception's F.avg_pool2d(x, 3, 1, padding=1)), all with ==:

- the IR with the Pad folded equals the unfolded graph's execution (max and average, kernels
  2 and 3, strides 1 and 2, pads 1 and 2, signed and unsigned values, a 1-D pool through its
  row image), and PyTorch on a QFX model exported with export_onnx;
- HLS C simulation and RTL co-simulation (under back-pressure) of one graph of eight padded
  pools equal the emulator, the co-simulated interval equals the RTL estimate and the HLS
  estimate counts the padded pixels each window walk takes;
- a torchvision-style ResNet stem and BasicBlock, converted with quantize_model, goes through
  `fxhls build` (HLS and RTL): its C simulation and its RTL co-simulation equal `fxhls
  emulate` (and PyTorch), at the RTL's estimated interval.
An unequal Pad (torch's ceil_mode) still does not fold and is refused in one line.
"""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import fxhls
import torchvision_style_models as tv
from fxhls.cli import main
from fxhls.deploy.interface import stream_interface
from fxhls.hls.dataflow import plan_dataflow
from fxhls.hls.naming import safe_graph
from fxhls.hls.parallelism import folding
from fxhls.ir import execute
from fxhls.ir.passes import check_hardware_graph, lower_for_hardware, split_host_edges
from fxhls.ir.passes.bnn import holds_binary_values
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import QAvgPool2d, QConv2d, QFXConfig, QInput, QMaxPool2d, QReLU, calibrate, quantize_model
from fxhls.rtl.folding import RtlParallelism
from fxhls.rtl.writer import write_rtl
from fxhls.sim.csim import run_csim
from fxhls.sim.rtl_cosim import cosim_design
from hls_build_helpers import GraphBuilder, csim_against_ir, sample_inputs

RECIPROCAL = "ap_ufixed<12,0,AP_RND_CONV,AP_SAT>"
AVERAGE_OUT = "ap_fixed<10,3,AP_RND,AP_SAT>"


def _padded_pool(b: GraphBuilder, x: str, op: str, kernel: int, stride: int, pad: int) -> str:
    """Pad `x` (C, H, W) by `pad` zeros on every side of H and W, then pool it without padding."""
    padded = b.add("Pad", [x], {"pads": [0, pad, pad, 0, pad, pad]})
    attrs = {"kernel_shape": [kernel, kernel], "strides": [stride, stride]}
    if op == "AveragePool":
        attrs |= {"reciprocal_type": RECIPROCAL, "out_type": AVERAGE_OUT}
    return b.add(op, [padded], attrs)


def _pool_graph(op, kernel, stride, pad, x_type):
    b = GraphBuilder((3, 6, 7), x_type)
    _padded_pool(b, b.last, op, kernel, stride, pad)
    return b.graph()


def _mismatches(got, expected) -> int:
    assert got.shape == expected.shape
    return int((got != expected).sum())


@pytest.mark.parametrize("x_type", ["ap_fixed<8,3>", "ap_ufixed<7,2>"])
@pytest.mark.parametrize("pad", [1, 2])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("kernel", [2, 3])
@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_a_folded_pad_computes_what_the_pad_then_the_pool_computes(op, kernel, stride, pad, x_type):
    unfolded, folded = _pool_graph(op, kernel, stride, pad, x_type), _pool_graph(op, kernel, stride, pad, x_type)
    check_hardware_graph(lower_for_hardware(folded))
    assert [n.op for n in folded.nodes] == ["Quantize", op]
    assert folded.nodes[1].attrs["pads"] == [pad, pad]
    x = sample_inputs((3, 6, 7), 16, seed=kernel * 10 + stride * 3 + pad)
    expected = execute(unfolded, x)[0]
    if op == "MaxPool" and x_type.startswith("ap_fixed"):  # signed: the padding's zeros are some windows' maximum
        assert (expected == 0).any()
    assert _mismatches(execute(folded, x)[0], expected) == 0


def test_a_padded_one_dimensional_pool_folds_through_its_row_image():
    def graph():
        b = GraphBuilder((2, 9), "ap_fixed<8,3>")
        padded = b.add("Pad", [b.last], {"pads": [0, 1, 0, 1]})
        image = b.add("Reshape", [padded], {"shape": [2, 1, 11]})
        b.add("MaxPool", [image], {"kernel_shape": [1, 3], "strides": [1, 2]})
        return b.graph()

    unfolded, folded = graph(), lower_for_hardware(graph())
    check_hardware_graph(folded)
    assert [n.op for n in folded.nodes] == ["Quantize", "Reshape", "MaxPool"]
    assert folded.nodes[2].attrs["pads"] == [0, 1]
    x = sample_inputs((2, 9), 16, seed=3)
    assert _mismatches(execute(folded, x)[0], execute(unfolded, x)[0]) == 0


def test_a_padded_max_pool_of_binary_values_is_not_binary():
    """Its zeros are neither -1 nor +1: the backends carry it as codes, not one bit a value."""
    def graph(pad):
        b = GraphBuilder((2, 6, 6), "ap_fixed<8,3>")
        _padded_pool(b, b.add("Sign", [b.last]), "MaxPool", 3, 2, pad)
        return lower_for_hardware(b.graph())

    x = sample_inputs((2, 6, 6), 16, seed=4)
    assert holds_binary_values(graph(0), graph(0).outputs[0])
    assert not holds_binary_values(graph(1), graph(1).outputs[0])
    assert 0 in execute(graph(1), x)[0]


def test_an_unequal_pad_before_a_pool_is_still_refused_in_one_line():
    b = GraphBuilder((2, 6, 6), "ap_ufixed<8,3>")
    padded = b.add("Pad", [b.last], {"pads": [0, 0, 0, 0, 1, 1]}, name="ceil_pad")  # torch's ceil_mode
    b.add("MaxPool", [padded], {"kernel_shape": [3, 3], "strides": [2, 2]}, name="pool")
    with pytest.raises(ValueError) as err:
        check_hardware_graph(lower_for_hardware(b.graph()))
    assert str(err.value) == ("node 'ceil_pad': a zero Pad is supported where it folds into the padding of the Conv, "
                              "MaxPool or AveragePool that reads it (the same on both sides of an axis, no channel "
                              "padded); this one pads [0, 0, 0, 0, 1, 1] before 'pool' (MaxPool)")


def test_the_resnet_stem_and_inception_pools_equal_pytorch_folded(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(QInput(), QConv2d(3, 4, 3, padding=1), QReLU(), QMaxPool2d(3, 2, padding=1),
                          QAvgPool2d(3, 1, padding=1)).eval()
    x = torch.randn(32, 3, 9, 10) * 2
    with torch.no_grad():
        expected = model(x).double().numpy()
    export_onnx(model, x[:1], tmp_path / "m.onnx")
    graph = load_onnx(tmp_path / "m.onnx")
    split_host_edges(graph)
    folded = check_hardware_graph(lower_for_hardware(graph))
    assert [n.attrs.get("pads") for n in folded.nodes if n.op in ("MaxPool", "AveragePool")] == [[1, 1], [1, 1]]
    assert "Pad" not in [n.op for n in folded.nodes]
    assert _mismatches(fxhls.emulate(tmp_path / "m.onnx", x.numpy()), expected) == 0
    assert _mismatches(fxhls.emulate(folded, x.numpy()), expected) == 0


# (op, kernel, stride, pad): every op at kernels 2 and 3, strides 1 and 2, pads 1 and 2
# (kernel 2 with pad 2: windows wholly in the padding)
CHAIN = [("MaxPool", 3, 1, 1), ("AveragePool", 3, 2, 1), ("MaxPool", 3, 1, 2), ("AveragePool", 2, 1, 1),
         ("AveragePool", 3, 2, 2), ("MaxPool", 2, 2, 1), ("MaxPool", 2, 1, 2), ("AveragePool", 2, 2, 1)]
CHAIN_SHAPE = (2, 9, 9)


def _chain_graph():
    """Signed 9x9 images through the eight padded pools of `CHAIN`, folded."""
    b = GraphBuilder(CHAIN_SHAPE, "ap_fixed<8,3,AP_RND_CONV,AP_SAT>")
    for op, kernel, stride, pad in CHAIN:
        _padded_pool(b, b.last, op, kernel, stride, pad)
    return check_hardware_graph(lower_for_hardware(b.graph()))


def test_hls_c_simulation_of_padded_pools_equals_the_ir(tmp_path):
    graph = _chain_graph()
    assert [n.attrs["pads"] for n in graph.nodes if "Pool" in n.op] == [[p, p] for *_, p in CHAIN]
    got, expected = csim_against_ir(graph, tmp_path / "hls", sample_inputs(CHAIN_SHAPE, 24, seed=5))
    assert _mismatches(got, expected) == 0
    # the HLS estimate: conv2d_stream walks the padded image, a pixel a clock
    plan = plan_dataflow(safe_graph(graph)[0])
    walks = [folding(plan, stage, "DSP48E2").cost(1).cycles for stage in plan.stages
             if stage.node is not None and "Pool" in stage.node.op]
    assert walks == [11 * 11, 11 * 11, 9 * 9, 9 * 9, 12 * 12, 7 * 7, 7 * 7, 8 * 8]


def test_rtl_cosimulation_of_padded_pools_equals_the_emulator_at_the_estimated_interval(tmp_path):
    graph = _chain_graph()
    design = stream_interface(graph, "top", "ultra96v2", 250)
    (tmp_path / "design.json").write_text(json.dumps(design))
    rtl = write_rtl(graph, design, tmp_path, RtlParallelism())
    x = sample_inputs(CHAIN_SHAPE, 6, seed=9)
    _, summary = cosim_design(tmp_path, x, graph, pause=0.3,
                              max_cycles=8 * (len(x) + 2) * rtl.cycles_per_sample + 20_000)
    assert summary["mismatches"] == 0
    assert summary["interval_cycles"] == rtl.cycles_per_sample


class _ResNetStem(nn.Module):
    """torchvision's ResNet stem (conv 7x7/2, BN, ReLU, max pool 3x3/2 padded by 1), one
    BasicBlock, the global average pool and the classifier."""

    def __init__(self, width=8):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = tv.BasicBlock(width, width)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width, 10)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(self.layer1(x)), 1))


def test_a_converted_resnet_stem_builds_and_simulates_as_it_emulates(tmp_path, capsys):
    torch.manual_seed(0)
    x = torch.randn(16, 3, 16, 16)
    q = quantize_model(_ResNetStem(), QFXConfig(weight_bits=6, activation_bits=8))
    calibrate(q, x)
    export_onnx(q.eval(), x[:1], tmp_path / "resnet.onnx")
    assert main(["build", str(tmp_path / "resnet.onnx"), "--board", "ultra96v2", "--out", str(tmp_path / "build"),
                 "-q"]) == 0
    capsys.readouterr()
    assert not (tmp_path / "build" / "rtl" / "REFUSED.txt").exists()  # the RTL backend builds it too
    got, expected = run_csim(tmp_path / "build", x.numpy()), fxhls.emulate(tmp_path / "resnet.onnx", x.numpy())
    assert _mismatches(got, expected) == 0
    with torch.no_grad():
        assert _mismatches(expected, q(x).double().numpy()) == 0
    _, summary = cosim_design(tmp_path / "build", x[:6].numpy(), tmp_path / "resnet.onnx")
    stages = json.loads((tmp_path / "build" / "rtl" / "stages.json").read_text())["stages"]
    assert summary["mismatches"] == 0
    assert summary["interval_cycles"] == max(stage["clocks"] for stage in stages)
