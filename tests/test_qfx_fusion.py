"""`qfx.fuse`: a QReLU after a QLinear or QBatchNorm in an nn.Sequential, computed inside that
layer's training node, gives bit for bit the values and every gradient of the unfused model,
with and without the native kernels, in float32 and float64."""

from __future__ import annotations

import contextlib
import copy

import pytest
import torch
from torch import nn

from fxhls import qfx
from fxhls.fixed import native
from fxhls.qfx import QBatchNorm1d, QBatchNorm2d, QConv2d, QFlatten, QInput, QLinear, QMaxPool2d, QReLU

KERNELS = {"native kernels": contextlib.nullcontext, "PyTorch path": native.disabled}


def model(dtype, input_point="fixed", relu_type="ap_ufixed<6,2,AP_RND_CONV,AP_SAT>"):
    """Every pair `fuse` finds: QBatchNorm2d (on a 7x9 image, whose channel runs start
    anywhere in the kernels' vector lanes) + QReLU, twice, QLinear + QReLU, QBatchNorm1d +
    QReLU; the first BatchNorm right after the input, whose gradient no one wants with a
    calibrated input point."""
    torch.manual_seed(3)
    layers = nn.Sequential(
        QInput("ap_fixed<8,3,AP_RND_CONV,AP_SAT>", input_point), QBatchNorm2d(2), QReLU(relu_type),
        QConv2d(2, 3, 3, padding=1), QBatchNorm2d(3), QReLU(relu_type), QMaxPool2d(2), QFlatten(),
        QLinear(3 * 3 * 4, 20), QReLU(relu_type), QLinear(20, 12), QBatchNorm1d(12), QReLU(relu_type),
        QLinear(12, 5),
    )
    with torch.no_grad():  # every quantizer in use: some values saturate, some BN scales are negative
        for module in layers.modules():
            if isinstance(module, (QBatchNorm1d, QBatchNorm2d)):
                module.weight.uniform_(-2, 3)
                module.bias.uniform_(-1, 1)
    return layers.to(dtype)


def batch(dtype, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(6, 2, 7, 9, generator=generator, dtype=torch.float64) * 3).to(dtype)


def outputs_and_gradients(layers, x, seed=1):
    y = layers(x)
    y.backward(torch.randn(y.shape, dtype=y.dtype, generator=torch.Generator().manual_seed(seed)))
    return [y.detach(), x.grad] + [p.grad for p in layers.parameters()], autograd_nodes(y)


def autograd_nodes(y):
    seen, stack = set(), [y.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack += [parent for parent, _ in node.next_functions]
    return {type(node).__name__ for node in seen}


def assert_equal(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if w is not None:
            assert g.dtype == w.dtype and g.shape == w.shape and (g != w).sum().item() == 0


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("input_point", ["fixed", "learned"])
def test_fused_pairs_give_the_values_and_gradients_of_the_unfused_model(kernels, dtype, input_point):
    unfused = model(dtype, input_point)
    fused = qfx.fuse(copy.deepcopy(unfused))
    with KERNELS[kernels]():
        for seed in range(2):
            x = batch(dtype, seed).requires_grad_(input_point == "learned")
            got, fused_nodes = outputs_and_gradients(fused, x.detach().clone().requires_grad_(x.requires_grad), seed)
            want, nodes = outputs_and_gradients(unfused, x, seed)
            assert_equal(got, want)
            fused.zero_grad(), unfused.zero_grad()
    with_kernels = kernels == "native kernels"
    assert ("_AffineReluLearnedPointsBackward" in fused_nodes) == with_kernels
    assert "_AffineReluLearnedPointsBackward" not in nodes


def train(layers, dtype, steps=4, x=None):
    """A few SGD steps on fixed batches (or on `x` each step); returns every parameter
    (binary points included) and buffer."""
    optimizer = torch.optim.SGD(layers.parameters(), lr=0.05, momentum=0.9)
    for step in range(steps):
        inputs = batch(dtype, step) if x is None else x
        y = torch.randint(0, 5, (inputs.shape[0],), generator=torch.Generator().manual_seed(step))
        optimizer.zero_grad()
        nn.functional.cross_entropy(layers(inputs), y).backward()
        optimizer.step()
    return [p.detach().clone() for p in layers.parameters()] + [b.clone() for b in layers.buffers()]


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_training_fused_follows_the_unfused_model_exactly(kernels, dtype):
    unfused = model(dtype, "calibrated")
    fused = qfx.fuse(copy.deepcopy(unfused))
    with KERNELS[kernels]():
        assert_equal(train(fused, dtype), train(unfused, dtype))
    assert fused.state_dict().keys() == unfused.state_dict().keys()


@pytest.mark.parametrize("kernels", KERNELS)
def test_a_wide_qlinear_pair_on_float32_gives_the_unfused_values_and_gradients(kernels):
    """The bench MLP's first layer: 784 8-bit inputs, whose exact sum float32 holds in one
    pass while the accumulator type (26 bits) needs float64: the output quantizer runs in
    float64, the fused ReLU's in float32."""
    torch.manual_seed(5)
    unfused = nn.Sequential(QInput(binary_point="calibrated"), QLinear(784, 32), QReLU(), QLinear(32, 5))
    fused = qfx.fuse(copy.deepcopy(unfused))
    x = torch.rand(16, 784) * 4 - 2
    with KERNELS[kernels]():
        got, _ = outputs_and_gradients(fused, x.clone())
        want, _ = outputs_and_gradients(unfused, x.clone())
        assert_equal(train(fused, torch.float32, x=x), train(unfused, torch.float32, x=x))
    assert_equal(got, want)
    plans = list(fused[1].__dict__["_one_node_plans"].values())
    assert plans == [(torch.float32, torch.float64)]  # summed in float32, accumulated in float64


def test_fuse_marks_only_a_qlinear_or_qbatchnorm_directly_followed_by_a_qrelu():
    layers = qfx.fuse(model(torch.float32))
    partners = {i: layer.__dict__.get("_fxhls_fused_relu") for i, layer in enumerate(layers)}
    assert {i for i, relu in partners.items() if relu is not None} == {1, 4, 8, 11}
    assert all(partners[i] is layers[i + 1] for i in (1, 4, 8, 11))
    assert "_fxhls_fused_relu" not in dict(layers[1].named_modules())  # no submodule: no new state


def test_a_pair_runs_unfused_where_fusion_would_show():
    """A forward hook on the layer or the QReLU, a signed QReLU type, a frozen ReLU point,
    evaluation under no_grad: each module computes its own output, and the values are the
    unfused model's."""
    x = batch(torch.float32)
    layers = qfx.fuse(model(torch.float32))
    assert "_AffineReluLearnedPointsBackward" in autograd_nodes(layers(x))

    for hooked in (layers[1], layers[2]):
        handle = hooked.register_forward_hook(lambda module, args, output: None)
        assert "_AffineReluLearnedPointsBackward" not in autograd_nodes(layers[:3](x))
        handle.remove()
    layers[2].output_quantizer.int_bits.requires_grad_(False)
    assert "_AffineReluLearnedPointsBackward" not in autograd_nodes(layers[:3](x))

    signed = qfx.fuse(model(torch.float32, relu_type="ap_fixed<8,3,AP_RND_CONV,AP_SAT>"))
    assert autograd_nodes(signed(x)).isdisjoint({"_AffineReluLearnedPointsBackward"})
    unfused = model(torch.float32, relu_type="ap_fixed<8,3,AP_RND_CONV,AP_SAT>")
    assert torch.equal(signed(x), unfused(x))

    layers, unfused = qfx.fuse(model(torch.float32)), model(torch.float32)
    with torch.no_grad():
        assert torch.equal(layers.eval()(x), unfused.eval()(x))


def test_a_fused_output_passes_its_qrelu_and_no_other():
    layers = qfx.fuse(model(torch.float32))
    y = layers[1](layers[0](batch(torch.float32)))  # the BatchNorm computed layers[2]'s output
    assert layers[2](y) is y
    assert layers[5](y) is not y  # another QReLU quantizes it as usual


class FloatNet(nn.Module):
    """A float model with the pairs `quantize_model` makes (Linear and BatchNorm then ReLU,
    function and module) and a BatchNorm whose output has two users."""

    def __init__(self):
        super().__init__()
        self.fc1, self.bn1, self.fc2 = nn.Linear(12, 10), nn.BatchNorm1d(10), nn.Linear(10, 10)
        self.bn2, self.fc3, self.relu = nn.BatchNorm1d(10), nn.Linear(10, 4), nn.ReLU()

    def forward(self, x):
        x = nn.functional.relu(self.fc1(x))
        x = self.relu(self.bn1(x))
        y = self.bn2(self.fc2(x))
        return self.fc3(self.relu(y) + y)


@pytest.mark.parametrize("kernels", KERNELS)
def test_quantize_model_fuses_the_pairs_of_its_graph(kernels):
    torch.manual_seed(4)
    converted = qfx.quantize_model(FloatNet())
    fused = {name for name, module in converted.named_modules() if "_fxhls_fused_relu" in module.__dict__}
    assert fused == {"fc1", "bn1"}  # each call of the ReLU module is its own QReLU; bn2's output has two users
    unfused = copy.deepcopy(converted)
    for module in unfused.modules():
        module.__dict__.pop("_fxhls_fused_relu", None)
    x = torch.randn(8, 12) * 2
    with KERNELS[kernels]():
        got, _ = outputs_and_gradients(converted, x.clone())
        want, _ = outputs_and_gradients(unfused, x.clone())
    assert_equal(got, want)


def test_a_layer_in_two_places_is_not_fused():
    shared = QLinear(4, 4)
    qfx.fuse(nn.Sequential(QInput(), shared, QReLU(), nn.Sequential(shared, QLinear(4, 2))))
    assert "_fxhls_fused_relu" not in shared.__dict__
