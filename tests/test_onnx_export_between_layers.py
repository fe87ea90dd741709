"""export_onnx of hand-built QFX models with plain PyTorch between the layers: every op
that only moves values is exported (the emulator equals PyTorch with ==); any op that
changes values is refused by name and source line, never silently dropped."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import fxhls
from fxhls.onnx import export_onnx
from fxhls.qfx import QConv2d, QFlatten, QInput, QLinear, QReLU


class _Between(nn.Module):
    """QInput, a conv and ReLU (N, 3, 4, 4), then `middle(y, *parts)` and `head`."""

    def __init__(self, middle, head: nn.Module, *parts: nn.Module):
        super().__init__()
        self.inp, self.conv, self.relu = QInput(), QConv2d(2, 3, 3, padding=1), QReLU()
        self.middle, self.parts, self.head = middle, nn.ModuleList(parts), head

    def forward(self, x):
        y = self.relu(self.conv(self.inp(x)))
        return self.head(self.middle(y, *self.parts))


def _vector_head():
    return QLinear(48, 5)


def _rows_head():
    """A linear layer over the last axis of (N, 3, 16), then a flatten and a classifier."""
    return nn.Sequential(QLinear(16, 5), nn.Flatten(), QLinear(15, 2))


IDIOMS = {
    "nn.Flatten": (lambda y, f: f(y), _vector_head, [nn.Flatten()]),
    "QFlatten": (lambda y, f: f(y), _vector_head, [QFlatten()]),
    "torch.flatten": (lambda y: torch.flatten(y, 1), _vector_head, []),
    "view(size(0), -1)": (lambda y: y.view(y.size(0), -1), _vector_head, []),
    "reshape(shape[0], -1)": (lambda y: y.reshape(y.shape[0], -1), _vector_head, []),
    "view(-1, 48)": (lambda y: y.contiguous().view(-1, 48), _vector_head, []),
    "flatten(1)": (lambda y: y.flatten(1), _vector_head, []),
    "nn.Identity, nn.Dropout": (lambda y, i, d: torch.flatten(d(i(y)), 1), _vector_head,
                                [nn.Identity(), nn.Dropout(0.5)]),
    "F.dropout(training=False)": (lambda y: F.dropout(y, 0.5, training=False).flatten(1), _vector_head, []),
    "unsqueeze, squeeze": (lambda y: y.unsqueeze(1).squeeze(1).flatten(1), _vector_head, []),
    "flatten(2)": (lambda y: y.flatten(2), _rows_head, []),
    "QFlatten(2)": (lambda y, f: f(y), _rows_head, [QFlatten(2)]),
    "view(n, 3, 16)": (lambda y: y.view(y.size(0), 3, -1), _rows_head, []),
}


@pytest.mark.parametrize("idiom", list(IDIOMS))
def test_shape_only_ops_between_layers_are_exported_as_computed(idiom, tmp_path):
    torch.manual_seed(0)
    middle, head, parts = IDIOMS[idiom]
    model = _Between(middle, head(), *parts).eval()
    x = torch.randn(9, 2, 4, 4) * 2
    export_onnx(model, x[:1], tmp_path / "m.onnx")  # a batch of one: the batch axis is still found
    with torch.no_grad():
        expected = model(x).double().numpy()
    assert np.array_equal(fxhls.emulate(tmp_path / "m.onnx", x.numpy()), expected)


def _refusal(model, shape=(2, 2, 4, 4)) -> str:
    with pytest.raises(ValueError) as err:
        export_onnx(model, torch.randn(*shape), "never_written.onnx")
    return str(err.value)


class _InPlace(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp, self.fc1, self.fc2 = QInput(), QLinear(4, 4), QLinear(4, 2)

    def forward(self, x):
        y = self.fc1(self.inp(x))
        y.mul_(0.5)
        return self.fc2(y)


def test_an_in_place_op_between_layers_is_refused_not_lost(tmp_path):
    message = _refusal(_InPlace(), (2, 4))
    line = next(n for n, text in enumerate(open(__file__), 1) if "y.mul_(0.5)" in text and "text" not in text)
    assert message.startswith("export_onnx: node 'mul_' (call_method .mul_()) at "
                              f"test_onnx_export_between_layers.py:{line} changes values outside a QFX layer")
    assert "\n" not in message
    assert not (tmp_path / "never_written.onnx").exists()


class _TwoValueChanges(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp, self.fc1, self.fc2 = QInput(), QLinear(4, 4), QLinear(4, 2)
        self.float_relu = nn.ReLU()

    def forward(self, x):
        return self.fc2(self.float_relu(self.fc1(self.inp(x)) * 0.5))


def test_every_value_changing_op_is_named_in_one_error():
    message = _refusal(_TwoValueChanges(), (2, 4))
    lines = message.splitlines()
    assert len(lines) == 2
    assert "node 'mul' (call_function _operator.mul)" in lines[0]
    assert "module 'float_relu' (ReLU)" in lines[1]


def test_a_reshape_that_folds_the_batch_axis_is_refused():
    model = _Between(lambda y: y.view(-1, 16), QLinear(16, 5))  # (N, 3, 4, 4) to (3N, 16)
    assert "node 'view' (call_method .view()) at " in _refusal(model)
    assert "does not keep the batch axis first" in _refusal(model)


def test_a_dropout_that_is_active_in_eval_mode_is_refused():
    model = _Between(lambda y: F.dropout(y, 0.5).flatten(1), _vector_head())  # training=True by default
    assert "node 'dropout' (call_function torch.nn.functional.dropout)" in _refusal(model)


def test_a_narrowed_accumulator_over_rows_is_refused_by_name():
    head = nn.Sequential(QLinear(16, 5, acc="ap_fixed<12,4,AP_TRN,AP_WRAP>"), nn.Flatten(), QLinear(15, 2))
    message = _refusal(_Between(lambda y: y.flatten(2), head))
    assert "module 'head.0' (QLinear)" in message and "narrowed accumulator" in message


def test_a_model_torch_fx_cannot_trace_is_refused_in_one_line():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp, self.fc = QInput(), QLinear(4, 2)

        def forward(self, x):
            return self.fc(self.inp(x)) if x.sum() > 0 else self.fc(x)

    message = _refusal(Branchy(), (2, 4))
    assert message.startswith("export_onnx: torch.fx cannot trace Branchy: ") and "\n" not in message


class _AddedInPlace(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp, self.fc1, self.fc2 = QInput(), QLinear(4, 4), QLinear(4, 2)

    def forward(self, x):
        y = self.fc1(self.inp(x))
        z = y
        y += 1
        return self.fc2(z)  # eager PyTorch: z holds y + 1


def test_an_in_place_add_between_layers_is_refused_by_name_not_lost():
    message = _refusal(_AddedInPlace(), (2, 4))
    line = next(n for n, text in enumerate(open(__file__), 1) if "y += 1" in text)
    assert message.startswith("export_onnx: node 'iadd' (call_function _operator.iadd) at "
                              f"test_onnx_export_between_layers.py:{line} changes values outside a QFX layer")
    assert "\n" not in message
