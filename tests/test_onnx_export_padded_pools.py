"""export_onnx of max pooling with torch's padding and ceil_mode (the ResNet stem's 3x3 stride-2
pool with padding 1, SqueezeNet's ceil_mode pools): torch pads with -inf, the export with a
zero Pad, equal where the input is never negative; the emulator equals PyTorch with ==.
Over signed values the export is refused in one line naming the layer. Average pooling with
padding (torch's count_include_pad=True) is a zero Pad then the average over the whole window,
over signed values too: QFX equals the exact padded window sums times 1/N, the emulator QFX."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

import fxhls
from fxhls.onnx import export_onnx
from fxhls.fixed import quantize, reciprocal
from fxhls.qfx import QAvgPool2d, QConv1d, QConv2d, QInput, QMaxPool1d, QMaxPool2d, QReLU
from fxhls.qfx.elementwise import RECIPROCAL_TYPE


@st.composite
def _pools(draw):
    kernel = draw(st.integers(1, 4))
    return dict(kernel=kernel, stride=draw(st.integers(1, 3)), padding=draw(st.integers(0, kernel // 2)),
                ceil_mode=draw(st.booleans()), size=draw(st.integers(kernel, 9)), one_dimensional=draw(st.booleans()))


@settings(max_examples=40, deadline=None)
@given(_pools())
def test_padded_and_ceil_mode_max_pools_emulate_exactly(tmp_path_factory, pool):
    torch.manual_seed(0)
    k, s, p, size = pool["kernel"], pool["stride"], pool["padding"], pool["size"]
    if pool["one_dimensional"]:
        conv, max_pool, shape = QConv1d(2, 3, 3, padding=1), QMaxPool1d(k, s, p, ceil_mode=pool["ceil_mode"]), (size,)
    else:
        conv, max_pool = QConv2d(2, 3, 3, padding=1), QMaxPool2d(k, s, p, ceil_mode=pool["ceil_mode"])
        shape = (size, size + 1)
    model = nn.Sequential(QInput(), conv, QReLU(), max_pool).eval()
    x = torch.randn(8, 2, *shape) * 2
    path = tmp_path_factory.mktemp("pool") / "m.onnx"
    export_onnx(model, x[:1], path)
    with torch.no_grad():
        expected = model(x).double().numpy()
    got = fxhls.emulate(path, x.numpy())
    assert got.shape == expected.shape
    assert int((got != expected).sum()) == 0


@settings(max_examples=30, deadline=None)
@given(kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)), stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       data=st.data())
def test_padded_average_pools_count_the_zeros_and_emulate_exactly(tmp_path_factory, kernel, stride, data):
    padding = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    torch.manual_seed(0)
    pool = QAvgPool2d(kernel, stride, padding=padding)
    model = nn.Sequential(QInput(), QConv2d(2, 3, 3, padding=1), pool).eval()  # signed values
    x = torch.randn(8, 2, 7, 8) * 2
    with torch.no_grad():
        got = model(x).double()
        before = model[1](model[0](x)).double()
    (ph, pw), count = padding, kernel[0] * kernel[1]
    windows = torch.nn.functional.pad(before, (pw, pw, ph, ph)).unfold(2, kernel[0], stride[0]).unfold(3, kernel[1],
                                                                                                      stride[1])
    expected = quantize(windows.sum((-1, -2)) * reciprocal(count, RECIPROCAL_TYPE), pool.output_type)
    assert int((got != expected).sum()) == 0
    path = tmp_path_factory.mktemp("avg") / "m.onnx"
    export_onnx(model, x[:1], path)
    assert int((fxhls.emulate(path, x.numpy()) != got.numpy()).sum()) == 0


@pytest.mark.parametrize("pool", [QMaxPool2d(3, 2, padding=1), QMaxPool2d(3, 2, ceil_mode=True)])
def test_a_padded_max_pool_over_signed_values_is_refused_in_one_line(pool):
    model = nn.Sequential(QInput(), QConv2d(1, 2, 3), pool)
    with pytest.raises(ValueError) as err:
        export_onnx(model, torch.randn(2, 1, 6, 6), "never_written.onnx")
    message = str(err.value)
    assert message.startswith(f"export_onnx: module '2' (QMaxPool2d): padding={pool.padding}, "
                              f"ceil_mode={pool.ceil_mode} over ap_fixed<16,6,AP_RND_CONV,AP_SAT>: torch pads with "
                              "-inf, which zeros equal only where the input is never negative")
    assert "\n" not in message


def test_a_dilated_max_pool_is_refused_in_one_line():
    model = nn.Sequential(QInput(), QConv2d(1, 2, 3), QReLU(), QMaxPool2d(2, 1, dilation=2))
    with pytest.raises(ValueError) as err:
        export_onnx(model, torch.randn(2, 1, 8, 8), "never_written.onnx")
    assert str(err.value) == ("export_onnx: module '3' (QMaxPool2d): dilation=2, which the IR's MaxPool does not "
                              "have; supported: dilation 1")
