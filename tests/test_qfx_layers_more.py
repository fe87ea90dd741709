"""QFX's class outputs and the layers float models bring: QSoftmax, QArgMax, 1-D pooling,
QPReLU (and QLeakyReLU as ONNX PRelu), QUpsample and QPad, end to end with ==.

QSoftmax's forward against the Softmax algorithm written with Python integers and
fractions (tests/test_softmax.py) over hypothesis-drawn types; its gradient is torch's
softmax's. Each `quantize_model` idiom is exported and `fxhls emulate` equals the PyTorch
forward (mismatches counted), onnxruntime too (fxhls's Softmax runs through its function
body); the types QSoftmax was given reach the IR node. A combined model (zero pads, PReLU,
max pooling, upsampling, LeakyReLU, a Conv1d over the image's rows with 1-D pools, a mean,
softmax) gives PyTorch == emulate == C simulation == RTL co-simulation. What the hardware
cannot compute is refused in one line.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from torch import nn

from rtl_cli import build_and_cosim
from fxhls.emulation import emulate
from fxhls.fixed import FixedType
from fxhls.hls.build import build_project
from fxhls.ir.ops.quantize import node_type
from fxhls.ir.ops.softmax import check, softmax_types
from fxhls.ir.passes import check_hardware_graph, lower_for_hardware
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import (QAdaptiveAvgPool1d, QArgMax, QAvgPool1d, QInput, QLinear, QMaxPool1d, QMean, QPad, QPReLU,
                       QSoftmax, QUpsample, calibrate, quantize_model)
from fxhls.qfx.relu_variants import QLeakyReLU
from fxhls.qfx.typed import tag
from fxhls.sim.csim import run_csim
from onnx_runners import run_onnxruntime
from test_softmax import _reference_softmax, _softmax_cases


def _mismatches(model: nn.Module, x: torch.Tensor, path) -> tuple[int, int]:
    """(values where `fxhls emulate` differs from PyTorch, where onnxruntime does) on the export of `model`."""
    proto = export_onnx(model, x[:2], path)
    with torch.no_grad():
        expected = model(x).double().numpy()
    emulated = emulate(path, x.double().numpy()).reshape(expected.shape)  # ArgMax keeps its class axis
    ran = run_onnxruntime(proto, x.numpy()).reshape(expected.shape)
    return int((emulated != expected).sum()), int((ran != expected).sum())


def _converted(model: nn.Module, x: torch.Tensor, **config) -> nn.Module:
    torch.manual_seed(1)
    q = quantize_model(model.eval(), config or None)
    calibrate(q, x)
    return q.eval()


# --- QSoftmax: the IR's algorithm, torch's gradient ------------------------------------------

@settings(max_examples=120, deadline=None)
@given(_softmax_cases())
def test_qsoftmax_computes_the_algorithm_in_fractions(case):
    x_type, node, classes, codes = case
    types = softmax_types(node, x_type, classes)
    try:
        check(types)
    except ValueError:  # types the op refuses: QSoftmax says so in one line (below)
        assume(False)
    layer = QSoftmax(output=node_type(node.attrs), **{k: v for k, v in node.attrs.items() if k.endswith("_type")})
    x = np.array(codes, dtype=np.float64).reshape(-1, classes) * x_type.lsb
    with torch.no_grad():
        got = layer(tag(torch.tensor(x), x_type)).numpy()
    wanted = [[float(v) for v in _reference_softmax([Fraction(value) for value in row], types)] for row in x.tolist()]
    assert got.tolist() == wanted


def test_qsoftmax_s_gradient_is_torchs_softmax_s():
    in_type = FixedType.parse("ap_fixed<10,4>")
    torch.manual_seed(0)
    x = tag(torch.round(torch.randn(8, 5, dtype=torch.float64) * 2 / in_type.lsb) * in_type.lsb, in_type)
    weights = torch.randn(8, 5, dtype=torch.float64)
    x.requires_grad_(True)
    (QSoftmax(output="ap_ufixed<16,1,AP_RND,AP_SAT>")(x) * weights).sum().backward()
    wide = x.detach().clone().requires_grad_(True)
    (torch.softmax(wide, 1) * weights).sum().backward()
    assert torch.equal(x.grad, wide.grad)


class _Softmaxes(nn.Module):
    """Every softmax spelling on the class axis, added up, then a Linear and torch.argmax."""

    def __init__(self):
        super().__init__()
        self.fc, self.softmax, self.out = nn.Linear(6, 5), nn.Softmax(dim=1), nn.Linear(5, 4)

    def forward(self, x):
        h = self.fc(x)
        return torch.argmax(self.out(self.softmax(h) + F.softmax(h, dim=1) + torch.softmax(h, -1) + h.softmax(1)),
                            dim=1)


def test_every_softmax_and_argmax_spelling_exports_and_emulates_exactly(tmp_path):
    x = torch.randn(200, 6) * 2
    q = _converted(_Softmaxes(), x)
    kinds = [type(m) for m in q.modules()]
    assert kinds.count(QSoftmax) == 4 and kinds.count(QArgMax) == 1
    assert _mismatches(q, x, tmp_path / "m.onnx") == (0, 0)
    nodes = [n for n in onnx.load(tmp_path / "m.onnx").graph.node]
    assert [(n.domain, n.op_type) for n in nodes if "Softmax" in n.op_type or n.op_type == "ArgMax"] == \
        [("fxhls", "Softmax")] * 4 + [("", "ArgMax")]
    with torch.no_grad():  # not a constant class
        assert len(np.unique(q(x).numpy())) >= 3


def test_the_types_qsoftmax_is_given_are_the_imported_softmax_s(tmp_path):
    torch.manual_seed(0)
    softmax = QSoftmax(output="ap_ufixed<10,0,AP_RND,AP_SAT>", exp_type="ap_ufixed<12,1,AP_RND,AP_SAT>",
                       sum_type="ap_ufixed<9,3,AP_TRN,AP_SAT>")
    model = nn.Sequential(QInput("ap_fixed<8,3,AP_RND_CONV,AP_SAT>", "fixed"), QLinear(6, 7), softmax).eval()
    x = torch.randn(300, 6) * 2
    assert _mismatches(model, x, tmp_path / "m.onnx") == (0, 0)
    (node,) = [n for n in load_onnx(tmp_path / "m.onnx").nodes if n.op == "Softmax"]
    assert str(node_type(node.attrs)) == "ap_ufixed<10,0,AP_RND,AP_SAT>"
    assert (node.attrs["exp_type"], node.attrs["sum_type"], node.attrs["reciprocal_type"]) == \
        ("ap_ufixed<12,1,AP_RND,AP_SAT>", "ap_ufixed<9,3,AP_TRN,AP_SAT>", "ap_ufixed<13,1,AP_RND,AP_SAT>")


# --- 1-D pooling, PReLU, upsampling, padding ------------------------------------------------------

class _Sequence(nn.Module):
    """A Conv1d stem and every 1-D pooling spelling; nearest upsampling of a sequence."""

    def __init__(self):
        super().__init__()
        self.conv, self.prelu = nn.Conv1d(2, 4, 3, padding=1), nn.PReLU(4)
        self.max, self.avg, self.glob = nn.MaxPool1d(2), nn.AvgPool1d(3, 2), nn.AdaptiveAvgPool1d(1)
        self.conv2, self.fc = nn.Conv1d(4, 4, 3), nn.Linear(4, 3)

    def forward(self, x):
        h = self.max(self.prelu(self.conv(x)))                          # 4 x 12
        h = self.avg(h) + F.avg_pool1d(h, 3, 2) + F.max_pool1d(h, 3, 2)  # 4 x 5
        h = self.conv2(F.interpolate(h, scale_factor=2))                 # 4 x 8
        h = h.mean(-1) + self.glob(h).flatten(1) + F.adaptive_avg_pool1d(h, 1).view(h.size(0), -1)
        return self.fc(h)


class _Image(nn.Module):
    """Zero pads before Convs (module and F.pad), per-channel and shared PReLU, LeakyReLU,
    nearest upsampling (module, UpsamplingNearest2d, F.interpolate by (2, 3)), per-pixel softmax."""

    def __init__(self):
        super().__init__()
        self.pad, self.conv, self.prelu = nn.ZeroPad2d(1), nn.Conv2d(2, 4, 3), nn.PReLU(4)
        self.up, self.up2 = nn.Upsample(scale_factor=2), nn.UpsamplingNearest2d(scale_factor=2)
        self.pad2, self.conv2, self.shared = nn.ConstantPad2d((1, 1, 2, 2), 0.0), nn.Conv2d(4, 4, 3, padding=(0, 1)), \
            nn.PReLU()
        self.leaky, self.conv3 = nn.LeakyReLU(0.1), nn.Conv2d(4, 3, 3)

    def forward(self, x):
        h = F.max_pool2d(self.prelu(self.conv(self.pad(x))), 2)         # 4 x 3 x 3
        h = self.up(h) + self.up2(h)                                     # 4 x 6 x 6
        h = self.shared(self.conv2(self.pad2(h)))                        # 4 x 8 x 6
        h = self.leaky(F.interpolate(h, scale_factor=(1, 2), mode="nearest"))
        return torch.softmax(self.conv3(F.pad(h, (1, 1, 1, 1))), dim=1)


@pytest.mark.parametrize("float_model, shape, kinds", [
    (_Sequence, (2, 24), {QMaxPool1d: 2, QAvgPool1d: 2, QAdaptiveAvgPool1d: 2, QMean: 1, QUpsample: 1, QPReLU: 1}),
    (_Image, (2, 6, 6), {QPad: 3, QPReLU: 2, QLeakyReLU: 1, QUpsample: 3, QSoftmax: 1}),
])
def test_each_idiom_exports_and_emulates_exactly(float_model, shape, kinds, tmp_path):
    x = torch.randn(100, *shape) * 2
    q = _converted(float_model(), x)
    counted = [type(m) for m in q.modules()]
    assert {kind: counted.count(kind) for kind in kinds} == kinds
    assert _mismatches(q, x, tmp_path / "m.onnx") == (0, 0)
    ops = [n.op_type for n in onnx.load(tmp_path / "m.onnx").graph.node]
    assert "Relu" not in ops or float_model is _Sequence  # LeakyReLU and PReLU are ONNX PRelu
    graph = lower_for_hardware(load_onnx(tmp_path / "m.onnx"))
    check_hardware_graph(graph)  # every zero pad folded into its Conv
    assert "Pad" not in [n.op for n in graph.nodes]
    if float_model is _Image:
        assert [n.attrs["pads"] for n in graph.nodes if n.op == "Conv"] == [[1, 1], [2, 2], [1, 1]]


def test_the_converted_layers_train():
    x = torch.randn(32, 2, 6, 6)
    q = _converted(_Image(), x).train()
    q(x).square().mean().backward()
    learned = {name: bool(p.grad.abs().sum() > 0) for name, p in q.named_parameters()
               if name in ("prelu.weight", "shared.weight", "softmax.output_quantizer.int_bits")}
    assert learned == {"prelu.weight": True, "shared.weight": True, "softmax.output_quantizer.int_bits": True}


# --- a combined model through C simulation and RTL co-simulation ----------------------------------

class _Combined(nn.Module):
    """Zero pads folded into Convs, PReLU, max pooling, upsampling, LeakyReLU, the image's rows
    as a sequence through a Conv1d and 1-D pools, a mean over the length, a Linear, softmax."""

    def __init__(self):
        super().__init__()
        self.pad, self.conv, self.prelu = nn.ZeroPad2d(1), nn.Conv2d(2, 4, 3), nn.PReLU(4)
        self.up, self.conv2, self.leaky = nn.Upsample(scale_factor=2), nn.Conv2d(4, 4, 3, padding=1), nn.LeakyReLU(0.125)
        self.seq, self.max, self.avg = nn.Conv1d(4, 6, 3, padding=1), nn.MaxPool1d(2), nn.AvgPool1d(3)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        h = F.max_pool2d(self.prelu(self.conv(self.pad(x))), 2)  # 4 x 3 x 3
        h = self.leaky(self.conv2(F.pad(self.up(h), (1, 1, 1, 1))))  # 4 x 8 x 8
        h = h.view(h.size(0), h.size(1), -1)  # a sequence of 64
        h = self.avg(self.max(F.relu(self.seq(h))))  # 6 x 10
        return F.softmax(self.fc(h.mean(-1)), dim=1)


@pytest.fixture(scope="module")
def combined(tmp_path_factory):
    """(folder, the exported model, inputs, PyTorch's outputs)."""
    folder = tmp_path_factory.mktemp("combined")
    x = torch.randn(200, 2, 6, 6) * 2
    q = _converted(_Combined(), x, activation_bits=10)
    export_onnx(q, x[:2], folder / "m.onnx")
    with torch.no_grad():
        expected = q(x).double().numpy()
    return folder, folder / "m.onnx", x.double().numpy(), expected


def test_the_combined_model_emulates_as_pytorch_and_c_simulation_as_the_emulator(combined):
    folder, path, x, expected = combined
    assert len(np.unique(expected)) > 50
    emulated = emulate(path, x)
    assert int((emulated != expected).sum()) == 0
    out, _ = build_project(path, "ultra96v2", folder / "hls")
    assert int((run_csim(out, x[:64]) != emulated[:64]).sum()) == 0


def test_the_combined_model_s_rtl_cosimulation_equals_the_emulator(combined, capsys):
    folder, path, x, expected = combined
    printed = build_and_cosim(path, x[:12], folder / "rtl", capsys, output=folder / "y.npy")
    assert "0 of 60 output values differ" in printed
    assert int((np.load(folder / "y.npy") != expected[:12]).sum()) == 0


# --- refusals, one line each ---------------------------------------------------------------------

class _Calls(nn.Module):
    def __init__(self, call):
        super().__init__()
        self.conv, self.call = nn.Conv2d(2, 3, 1), call

    def forward(self, x):
        return self.call(self.conv(x))


@pytest.mark.parametrize("call, message", [
    (lambda h: F.softmax(h, dim=2), r"has dim=2; supported: the class axis \(dim=1, or -1 on \(N, C\)\)"),
    (lambda h: torch.argmax(h, dim=0), r"has dim=0; supported: the class axis \(dim=1, or -1 on \(N, C\)\)"),
    (lambda h: F.interpolate(h, scale_factor=2, mode="bilinear"),
     r"has mode='bilinear', size=None, scale_factor=2; supported: mode='nearest' with integer scale_factor \(no size\)"),
    (lambda h: F.interpolate(h, scale_factor=1.5), r"has scale_factor=1.5; supported: integer scale factors of at least 1"),
    (lambda h: F.pad(h, (1, 1, 1, 1), mode="reflect"),
     r"has mode='reflect', value=None; supported: zero padding \(mode 'constant', value 0\)"),
    (lambda h: F.pad(h, (1, 1), value=0.5), r"has mode='constant', value=0.5; supported: zero padding"),
])
def test_what_quantize_model_cannot_compute_exactly_is_refused_in_one_line(call, message):
    with pytest.raises(ValueError, match=rf"^quantize_model: [^\n]*{message}[^\n]*$"):
        quantize_model(_Calls(call))


def test_a_softmax_off_the_class_axis_at_run_time_is_refused_in_one_line():
    q = quantize_model(_Calls(lambda h: torch.softmax(h, -1)))  # -1 is the class axis of (N, C) only
    with pytest.raises(ValueError, match=r"^QSoftmax: dim=-1 of a 4-axis input; supported: the class axis "
                                         r"\(dim=1, or -1 on \(N, C\)\)$"):
        q(torch.randn(2, 2, 3, 3))


def test_qsoftmax_types_the_ir_refuses_are_refused_in_one_line():
    x = tag(torch.zeros(2, 4), FixedType.parse("ap_fixed<8,3>"))
    with pytest.raises(ValueError, match=r"^QSoftmax: the exp type ap_ufixed<6,0> does not hold exp\(0\) = 1 "
                                         r"[^\n]*$"):
        QSoftmax(exp_type="ap_ufixed<6,0>", output="ap_ufixed<8,1>")(x)
    with pytest.raises(ValueError, match=r"^QSoftmax: its input has no fixed-point type; [^\n]*$"):
        QSoftmax()(torch.zeros(2, 4))


def test_an_argmax_that_does_not_end_the_model_is_refused_at_export(tmp_path):
    model = nn.Sequential(QInput(binary_point="fixed"), QArgMax(keepdim=True), nn.Flatten())
    with pytest.raises(ValueError, match=r"^export_onnx: [^\n]*QArgMax[^\n]* is read by another op; an ArgMax "
                                         r"\(int64 indices\) ends the model$"):
        export_onnx(model, torch.randn(2, 3), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_the_qonnx_export_refuses_a_qsoftmax_in_one_line(tmp_path):
    model = nn.Sequential(QInput("ap_fixed<8,3,AP_RND_CONV,AP_SAT>", "fixed"), QLinear(4, 3), QSoftmax())
    with pytest.raises(ValueError, match=r"^export_onnx\(qonnx=True\): node '2/Softmax' computes what no standard "
                                         r"op or QONNX quantizer does, which QONNX cannot express; [^\n]*$"):
        export_onnx(model, torch.randn(2, 4), tmp_path / "m.onnx", qonnx=True)


def test_upsample_and_pad_layers_refuse_what_they_cannot_hold():
    with pytest.raises(ValueError, match=r"^QUpsample: scale_factor=1.5; supported: integers of at least 1$"):
        QUpsample(1.5)
    with pytest.raises(ValueError, match=r"^QPad: padding=\(1, -1\); supported: a non-negative begin and end per "
                                         r"axis$"):
        QPad((1, -1))
