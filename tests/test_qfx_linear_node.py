"""A QLinear's training step in one autograd node (`fxhls/qfx/linear_node.py`) gives, bit for
bit, the values and every gradient of its unfused path, with and without the native kernels."""

from __future__ import annotations

import contextlib
from unittest import mock

import pytest
import torch
from torch import nn

from fxhls.fixed import native
from fxhls.qfx import FixedQuantizer, QFlatten, QInput, QLinear, QReLU
from fxhls.qfx.typed import tag, type_of

KERNELS = {"native kernels": contextlib.nullcontext, "PyTorch path": native.disabled}
ONE_NODE = "_LinearNodeBackward"


def unfused():
    return mock.patch.object(QLinear, "_in_one_node", lambda self, x, relu=None: None)


def linear_case(seed, dtype, in_features=37, input_type="ap_fixed<8,2,AP_RND_CONV,AP_SAT>", x_grad=True,
                batch=5, transposed_input=False):
    """A QLinear (some weights saturate) and a typed input for it."""
    torch.manual_seed(seed)
    layer = QLinear(in_features, 11, weight="ap_fixed<6,1,AP_RND_CONV,AP_SAT>",
                    bias_type="ap_fixed<9,2,AP_RND,AP_SAT>").to(dtype)
    with torch.no_grad():
        layer.weight.mul_(3)
        layer.bias.uniform_(-3, 3)
    x = QInput(input_type, "fixed")(torch.randn(batch, in_features, dtype=dtype) * 2)
    if transposed_input:  # the same values, strides of a transposed column
        x = tag(torch.empty_strided(x.shape, (1, batch), dtype=dtype).copy_(x), type_of(x))
    return layer, x.requires_grad_(x_grad)


def outputs_and_gradients(layer, x, seed):
    y = layer(x)
    y.backward(torch.randn(y.shape, dtype=y.dtype, generator=torch.Generator().manual_seed(seed)))
    points = [q.int_bits.grad for q in (layer.weight_quantizer, layer.bias_quantizer, layer.output_quantizer)]
    return type(y.grad_fn).__name__, [y.detach(), x.grad, layer.weight.grad, layer.bias.grad, *points]


def compare(case, seed, served=True):
    """One node against the unfused path on two copies of `case()`; asserts whether the
    node served and that every value and gradient is equal."""
    node, got = outputs_and_gradients(*case(), seed)
    with unfused():
        reference_node, want = outputs_and_gradients(*case(), seed)
    assert (node == ONE_NODE) == served and reference_node != ONE_NODE
    assert len(got) == len(want) == 7
    for g, w in zip(got, want):
        if w is None:
            assert g is None
            continue
        assert g.dtype == w.dtype and g.shape == w.shape and (g != w).sum().item() == 0


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_node_gives_the_values_and_gradients_of_the_unfused_layer(kernels, dtype):
    with KERNELS[kernels]():
        for seed in range(3):
            for x_grad in (True, False):
                compare(lambda: linear_case(seed, dtype, x_grad=x_grad), seed)


WIDE_INPUT = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"  # 16 input features per exact float32 slice


def sum_dtype(in_features):
    layer, x = linear_case(0, torch.float32, in_features=in_features, input_type=WIDE_INPUT)
    layer(x)  # sets the input type
    return layer._sum_dtype(x)


@pytest.mark.parametrize("kernels", KERNELS)
def test_one_node_sums_in_float64_where_float32_slices_would_be_too_many(kernels):
    """300 features, more than 16 slices: the sum runs in float64 on a float32 input, the
    gradients come back to float32."""
    assert sum_dtype(300) == torch.float64
    with KERNELS[kernels]():
        compare(lambda: linear_case(0, torch.float32, in_features=300, input_type=WIDE_INPUT), 0)


def test_one_node_leaves_float32_slices_to_the_unfused_layer():
    assert sum_dtype(37) is None
    compare(lambda: linear_case(0, torch.float32, in_features=37, input_type=WIDE_INPUT), 0, served=False)


def test_one_node_takes_a_column_major_input_as_mm_does():
    """One row whose strides PyTorch reads as column-major: mm's backward then transposes."""
    layer, x = linear_case(0, torch.float32, batch=1, transposed_input=True)
    assert x.is_contiguous() and x.stride() == (1, 1)
    compare(lambda: linear_case(0, torch.float32, batch=1, transposed_input=True), 0)


def test_one_node_serves_only_plain_learned_layers():
    layer, x = linear_case(0, torch.float32)
    layer.output_quantizer.int_bits.requires_grad_(False)
    assert layer._in_one_node(x) is None
    khot, x = linear_case(0, torch.float32)
    khot.weight_quantizer.project = lambda values, t: values
    assert khot._in_one_node(x) is None
    with torch.no_grad():
        assert linear_case(0, torch.float32)[0]._in_one_node(x) is None


def small_mlp():
    torch.manual_seed(5)
    return nn.Sequential(QInput(), QFlatten(), QLinear(64, 32), QReLU(), QLinear(32, 10))


def train(model, steps=4):
    """A few SGD steps on a fixed batch; returns every parameter (binary points included)."""
    generator = torch.Generator().manual_seed(6)
    x, y = torch.rand(16, 1, 8, 8, generator=generator) * 3, torch.randint(0, 10, (16,), generator=generator)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("kernels", KERNELS)
def test_training_with_one_node_layers_follows_the_unfused_path_exactly(kernels):
    with KERNELS[kernels]():
        got = train(small_mlp())
        with unfused():
            want = train(small_mlp())
    assert len(got) == len(want) == 2 * 2 + 2 * 3 + 1 + 1
    assert all((g != w).sum().item() == 0 for g, w in zip(got, want))
    model = small_mlp()
    assert sum(q.int_bits.requires_grad for q in model.modules() if isinstance(q, FixedQuantizer)) == 7
    assert type(model(torch.rand(2, 1, 8, 8)).grad_fn).__name__ == ONE_NODE
