"""QFX activations (`fxhls.qfx.activations`): QSigmoid, QTanh, QHardSigmoid, QELU, QSELU,
QSoftplus and QExp compute the lookup table the hardware holds, value for value.

Each layer's forward on every code of its input type equals the IR table's entries
(`fxhls.ir.ops.table.table_entries`, the float64 function quantized) over hypothesis-drawn
types and modes; its gradient is torch's function's; `quantize_model` rewrites every float
spelling; the exported model (the standard op, then an fxhls Quantize) reads back as one
Table, and the PyTorch forward equals `fxhls emulate`, C simulation and RTL co-simulation
with `==`. What cannot be built is refused in one line.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from torch import nn

from rtl_cli import build_and_cosim
from fxhls.emulation import emulate
from fxhls.fixed import OVERFLOW_MODES, ROUNDING_MODES, FixedType
from fxhls.hls.build import build_project
from fxhls.ir import Node
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.ops.table import table_entries
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import (QELU, QExp, QHardSigmoid, QInput, QLinear, QSELU, QSigmoid, QSoftplus, QTanh, calibrate,
                       quantize_model)
from fxhls.qfx.typed import tag
from fxhls.sim.csim import run_csim
from onnx_runners import run_onnxruntime

LAYERS = {"Sigmoid": QSigmoid, "Tanh": QTanh, "HardSigmoid": QHardSigmoid, "Elu": QELU, "Selu": QSELU,
          "Softplus": QSoftplus, "Exp": QExp}


def _types(max_width: int, max_int_bits: int):
    return st.builds(lambda w, i, s, r, o: FixedType(w, i, s, r, o), st.integers(2, max_width),
                     st.integers(-2, max_int_bits), st.booleans(), st.sampled_from(ROUNDING_MODES),
                     st.sampled_from(OVERFLOW_MODES))


def _layer(function: str, output: FixedType, alpha: float, beta: float):
    if function == "HardSigmoid":
        return QHardSigmoid(alpha, beta, output=output)
    if function == "Elu":
        return QELU(alpha, output=output)
    return LAYERS[function](output=output)


@settings(max_examples=60, deadline=None)
@given(function=st.sampled_from(sorted(LAYERS)), in_type=_types(10, 4), out_type=_types(12, 5),
       alpha=st.floats(-2, 2), beta=st.floats(-1, 1))
def test_every_value_is_the_table_entry_of_its_code(function, in_type, out_type, alpha, beta):
    layer = _layer(function, out_type, alpha, beta)
    grid = np.arange(in_type.min_code, in_type.max_code + 1, dtype=np.float64) * in_type.lsb
    with torch.no_grad():
        got = layer(tag(torch.tensor(grid, dtype=torch.float64), in_type)).numpy()
    node = Node("Table", "t", ["x"], ["y"], {"function": function, **layer.params, **type_attrs(out_type)})
    assert int((got != table_entries(node, in_type)).sum()) == 0


def test_the_gradient_is_torchs_function_s():
    in_type = FixedType.parse("ap_fixed<10,4>")
    x = tag(torch.arange(in_type.min_code, in_type.max_code + 1, dtype=torch.float32) * in_type.lsb, in_type)
    for layer, reference in ((QSigmoid("ap_ufixed<16,1>"), torch.sigmoid), (QTanh("ap_fixed<16,2>"), torch.tanh),
                             (QELU(0.5, "ap_fixed<16,6>"), lambda v: F.elu(v, 0.5)),
                             (QSoftplus("ap_ufixed<16,6>"), F.softplus)):
        x.requires_grad_(True)
        x.grad = None
        layer(x).sum().backward()
        wide = x.detach().double().requires_grad_(True)
        reference(wide).sum().backward()
        assert torch.equal(x.grad, wide.grad.float()), type(layer).__name__


def test_an_untyped_or_too_wide_input_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"^QSigmoid: its input has no fixed-point type; [^\n]*put a QFX layer "
                                         r"\(or QInput\) before it$"):
        QSigmoid()(torch.zeros(3))
    with pytest.raises(ValueError, match=r"^QTanh: a Tanh table over ap_fixed<33,6> \(33 bits\) is not built: a "
                                         r"table's input takes at most 32 bits [^\n]*narrow its input[^\n]*$"):
        QTanh()(tag(torch.zeros(3), FixedType.parse("ap_fixed<33,6>")))


class _EverySpelling(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 8)
        self.acts = nn.ModuleList([nn.Sigmoid(), nn.Tanh(), nn.Hardsigmoid(), nn.ELU(0.5), nn.SELU(), nn.Softplus()])
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        h = self.fc(x)
        y = [act(h) for act in self.acts]
        y += [torch.sigmoid(h), F.sigmoid(h), h.sigmoid(), torch.tanh(h), F.tanh(h), h.tanh(), F.hardsigmoid(h),
              F.elu(h, 0.3), F.selu(h), torch.selu(h), F.softplus(h), torch.exp(h), h.exp()]
        total = y[0]
        for term in y[1:]:
            total = total + term
        return self.out(total)


def test_quantize_model_rewrites_every_spelling_and_the_export_emulates_exactly(tmp_path):
    torch.manual_seed(0)
    q = quantize_model(_EverySpelling().eval())
    kinds = [type(m).__name__ for m in q.modules() if type(m).__module__ == "fxhls.qfx.activations"]
    assert sorted(set(kinds)) == sorted(layer.__name__ for layer in LAYERS.values()) and len(kinds) == 19
    assert sorted(m.params["alpha"] for m in q.modules() if isinstance(m, QELU)) == [np.float32(0.3), 0.5]
    x = torch.randn(300, 6)
    calibrate(q, x)
    q.eval()
    with torch.no_grad():
        expected = q(x).double().numpy()
    export_onnx(q, x[:2], tmp_path / "m.onnx")
    assert [n.op for n in load_onnx(tmp_path / "m.onnx").nodes].count("Table") == 19
    assert int((emulate(tmp_path / "m.onnx", x.double().numpy()) != expected).sum()) == 0


@pytest.mark.parametrize("module, setting", [(nn.Softplus(beta=2), "beta=2, threshold=20.0"),
                                             (nn.Softplus(threshold=5), "beta=1.0, threshold=5")])
def test_a_softplus_other_than_torchs_default_is_refused_in_one_line(module, setting):
    with pytest.raises(ValueError, match=rf"^quantize_model: [^\n]*has {setting}; supported: beta=1, threshold=20 "
                                         rf"\(the defaults\)$"):
        quantize_model(nn.Sequential(nn.Linear(2, 2), module))


def _chain():
    """Every activation once, each after a Linear, calibrated on seeded data; and that data."""
    torch.manual_seed(0)
    layers = [QInput("ap_fixed<8,3,AP_RND_CONV,AP_SAT>")]
    for activation in (QELU(0.5), QSigmoid(), QTanh(), QHardSigmoid(), QSELU(), QSoftplus(), QExp()):
        layers += [QLinear(6, 6), activation]
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, QLinear):
                layer.weight.uniform_(-1.5, 1.5)  # wide enough that the values after each activation still vary
    x = torch.randn(64, 6) * 2
    calibrate(model, x)
    return model.eval(), x


def _forward(model, x) -> np.ndarray:
    with torch.no_grad():
        return model(x).double().numpy()


def test_pytorch_equals_emulate_equals_csim(tmp_path):
    model, x = _chain()
    proto = export_onnx(model, x[:2], tmp_path / "m.onnx")
    graph = load_onnx(tmp_path / "m.onnx")
    assert [n.attrs["function"] for n in graph.nodes if n.op == "Table"] == \
        ["Elu", "Sigmoid", "Tanh", "HardSigmoid", "Selu", "Softplus", "Exp"]
    expected = _forward(model, x)
    assert len(np.unique(expected)) > 20
    assert int((emulate(graph, x.double().numpy()) != expected).sum()) == 0
    out, _ = build_project(tmp_path / "m.onnx", "ultra96v2", tmp_path / "build")
    assert int((run_csim(out, x.double().numpy()) != expected).sum()) == 0
    # onnxruntime computes each function in float32 (HardSigmoid's alpha * x + beta rounded
    # twice), which can move a value onto a rounding boundary: counted, not claimed equal
    differing = int((run_onnxruntime(proto, x.numpy()) != expected).sum())
    assert differing <= expected.size // 10


def test_pytorch_equals_rtl_cosim(tmp_path, capsys):
    model, x = _chain()
    x = x[:12]
    export_onnx(model, x[:2], tmp_path / "m.onnx")
    printed = build_and_cosim(tmp_path / "m.onnx", x.double().numpy(), tmp_path / "build", capsys,
                              output=tmp_path / "y.npy")
    assert "0 of 72 output values differ" in printed
    assert int((np.load(tmp_path / "y.npy") != _forward(model, x)).sum()) == 0


def _exported(tmp_path) -> onnx.ModelProto:
    torch.manual_seed(0)
    model = nn.Sequential(QInput("ap_fixed<8,3,AP_RND_CONV,AP_SAT>", "fixed"), QLinear(4, 3), QSigmoid())
    return export_onnx(model, torch.randn(2, 4), tmp_path / "m.onnx")


def test_a_table_that_is_a_graph_output_is_refused_in_one_line(tmp_path):
    proto = _exported(tmp_path)
    sigmoid = next(n for n in proto.graph.node if n.op_type == "Sigmoid")
    proto.graph.node.remove(proto.graph.node[-1])  # the Quantize after it
    proto.graph.output[0].name = sigmoid.output[0]
    with pytest.raises(ValueError, match=r"^node '2/Sigmoid' \(Sigmoid\): its output is a graph output; in a "
                                         r"quantized model a Sigmoid is a lookup table [^\n]*$"):
        load_onnx(proto)


def test_the_qonnx_export_refuses_a_table_in_one_line(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(QInput("ap_fixed<8,3,AP_RND_CONV,AP_SAT>", "fixed"), QLinear(4, 3), QTanh())
    with pytest.raises(ValueError, match=r"^export_onnx\(qonnx=True\): node '2/Tanh' is a Tanh table [^\n]*; "
                                         r"export without qonnx=True [^\n]*$"):
        export_onnx(model, torch.randn(2, 4), tmp_path / "m.onnx", qonnx=True)
    assert not (tmp_path / "m.onnx").exists()
