"""The CNNs of the QONNX model zoo, rebuilt small but faithful with random weights, for tests.

Each is the architecture a published trained model has, built from the same Brevitas
classes (`brevitas_examples`) or, where Brevitas does not write the graph that way, from
ONNX nodes (`float_scaled_models.quant`): untrained, BatchNorm given random statistics
(so that thresholds are not trivial), calibrated on seeded random data, exported to QONNX.

    x = export("mobilenet_v1_4b", path)   # float32 sample inputs, batch first

`SMALL` are the reduced variants the tests run (fewer blocks or channels, smaller
images, the same layer kinds, quantizers and pools); `full=True` gives the published
sizes (224x224 MobileNet, 3x512x512 CloudSatNet), which `bench/cnn_zoo.py` runs.
"""

from __future__ import annotations

import warnings

import numpy as np
import onnx
from onnx import helper

from float_scaled_models import model, quant

SAMPLES = 4


def _randomize_batchnorm(network) -> None:
    import torch

    for module in network.modules():
        if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            with torch.no_grad():
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)


def _bnn_resnet18(full: bool, bits: int = 4):
    """brevitas_examples.bnn_pynq's resnet18_4w4a (CIFAR-10, 8-bit first and last weights,
    per-channel float weight scales, residuals through shared 4-bit ReLU quantizers,
    TruncAvgPool 4x4); small: one block per stage."""
    from brevitas_examples.bnn_pynq.models.resnet import QuantBasicBlock, QuantResNet

    blocks = [2, 2, 2, 2] if full else [1, 1, 1, 1]
    return QuantResNet(QuantBasicBlock, blocks, act_bit_width=bits, weight_bit_width=bits), (3, 32, 32), False


def _bnn_resnet18_8w8a(full: bool):
    """The same at 8-bit weights and activations (the zoo's trained CIFAR-10 ResNet-18)."""
    return _bnn_resnet18(full, bits=8)


def _a2q_resnet18(full: bool):
    """brevitas_examples' A2Q ResNet-18, w4a4, accumulator-aware weights (14-bit
    accumulators), 4-bit residuals; small: one block per stage."""
    from brevitas.quant import Int8WeightPerChannelFloat
    from brevitas_examples.bnn_pynq.models.resnet import QuantBasicBlock, QuantResNet
    from brevitas_examples.imagenet_classification.a2q.quant import CommonIntAccumulatorAwareWeightQuant

    blocks = [2, 2, 2, 2] if full else [1, 1, 1, 1]
    network = QuantResNet(QuantBasicBlock, blocks, act_bit_width=4, weight_bit_width=4,
                          weight_quant=CommonIntAccumulatorAwareWeightQuant.let(accumulator_bit_width=14),
                          last_layer_weight_quant=Int8WeightPerChannelFloat, round_average_pool=False)
    return network, (3, 32, 32), False


def _mobilenet_v1_4b(full: bool):
    """brevitas_examples' quant_mobilenet_v1_4b (per-channel activation scales into the
    depthwise convolutions, TruncAvgPool 7x7 over the last 7x7 image); small: a quarter of
    the channels on a 96x96 image, so the final pool is 3x3 (9 values, no power of two)."""
    from brevitas_examples.imagenet_classification.models import model_with_cfg
    from brevitas_examples.imagenet_classification.models.mobilenetv1 import MobileNet

    if full:
        return model_with_cfg("quant_mobilenet_v1_4b")[0], (3, 224, 224), True
    channels = [[8], [16], [32, 32], [64, 64], [128, 128, 128], [256, 256]]
    network = MobileNet(channels, first_stage_stride=False, act_bit_width=4, weight_bit_width=4,
                        round_average_pool=False, last_layer_bit_width=4, avg_pool_kernel_size=3, num_classes=10)
    return network, (3, 96, 96), True


def _proxylessnas_mobile14_4b(full: bool):
    """brevitas_examples' quant_proxylessnas_mobile14_4b (inverted residuals with shared
    signed 4-bit quantizers on the residual adds, depthwise 3x3 to 7x7); small: the stage
    layout shrunk and a 96x96 image, its final pool 3x3."""
    from brevitas.nn import TruncAvgPool2d
    from brevitas_examples.imagenet_classification.models import model_with_cfg
    from brevitas_examples.imagenet_classification.models.proxylessnas import ProxylessNAS

    if full:
        return model_with_cfg("quant_proxylessnas_mobile14_4b")[0], (3, 224, 224), True
    network = ProxylessNAS(channels=[[8], [16, 16], [24, 24], [32, 32], [48]], init_block_channels=16,
                           final_block_channels=128, residuals=[[1], [1, 1], [1, 1], [1, 1], [1]],
                           shortcuts=[[0], [0, 1], [0, 1], [0, 1], [0]], kernel_sizes=[[3], [5, 3], [7, 5], [5, 3], [7]],
                           expansions=[[1], [3, 3], [3, 6], [6, 3], [6]], bit_width=4, depthwise_bit_width=4,
                           first_layer_weight_bit_width=8, hadamard_classifier=False, round_average_pool=False,
                           num_classes=10)
    network.final_pool = TruncAvgPool2d(kernel_size=3, stride=1, bit_width=4, float_to_int_impl_type="floor")
    return network, (3, 96, 96), True


def _proxylessnas_tiny(full: bool):
    """The smallest ProxylessNAS of the same blocks, for RTL co-simulation: a stride-2 stem,
    two inverted residual blocks (per-channel expansion scales into a depthwise 3x3; the
    second adds its input, through a shared signed quantizer), a 3x3 TruncAvgPool (9
    values) on a 12x12 image."""
    from brevitas.nn import TruncAvgPool2d
    from brevitas_examples.imagenet_classification.models.proxylessnas import ProxylessNAS

    network = ProxylessNAS(channels=[[8], [8, 8]], init_block_channels=8, final_block_channels=16,
                           residuals=[[1], [1, 1]], shortcuts=[[0], [0, 1]], kernel_sizes=[[3], [3, 3]],
                           expansions=[[1], [2, 2]],
                           bit_width=4, depthwise_bit_width=4, first_layer_weight_bit_width=8,
                           hadamard_classifier=False, round_average_pool=False, num_classes=4)
    network.final_pool = TruncAvgPool2d(kernel_size=3, stride=1, bit_width=4, float_to_int_impl_type="floor")
    return network, (3, 12, 12), True


def _resnet8_float3(full: bool):
    """ResNet-8 (MLPerf Tiny's: 16, 32, 64 channels, a 1x1 shortcut where the size halves)
    for CIFAR-100 with 3-bit float-scaled Brevitas quantizers: per-channel weights, ReLUs,
    the two residual operands at their own scales, float BatchNorm; small: a 16x16 image."""
    from brevitas import nn as qnn
    from brevitas.quant import (Int8ActPerTensorFloat, Int8WeightPerChannelFloat, Int8WeightPerTensorFloat,
                                Uint8ActPerTensorFloat)
    from torch import nn

    def conv(cin, cout, kernel=3, stride=1):
        return qnn.QuantConv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False,
                               weight_quant=Int8WeightPerChannelFloat, weight_bit_width=3)

    def relu():
        return qnn.QuantReLU(act_quant=Uint8ActPerTensorFloat, bit_width=3, return_quant_tensor=True)

    def signed():  # a plain tensor: Brevitas adds QuantTensors of one scale only
        return qnn.QuantIdentity(act_quant=Int8ActPerTensorFloat, bit_width=3, return_quant_tensor=False)

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.branch = nn.Sequential(conv(cin, cout, stride=stride), nn.BatchNorm2d(cout), relu(),
                                        conv(cout, cout), nn.BatchNorm2d(cout), signed())
            self.shortcut = (nn.Sequential(conv(cin, cout, 1, stride), nn.BatchNorm2d(cout), signed())
                             if stride != 1 else signed())
            self.out = relu()

        def forward(self, x):
            return self.out(self.branch(x) + self.shortcut(x))

    class ResNet8(nn.Module):
        def __init__(self, side):
            super().__init__()
            self.input = qnn.QuantIdentity(act_quant=Int8ActPerTensorFloat, return_quant_tensor=True)
            self.stem = nn.Sequential(qnn.QuantConv2d(3, 16, 3, padding=1, bias=False,
                                                      weight_quant=Int8WeightPerChannelFloat),
                                      nn.BatchNorm2d(16), relu())
            self.blocks = nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
            self.pool = nn.AvgPool2d(side // 4)
            self.head = qnn.QuantLinear(64, 100, bias=True, weight_quant=Int8WeightPerTensorFloat)

        def forward(self, x):
            return self.head(self.pool(self.blocks(self.stem(self.input(x)))).flatten(1))

    side = 32 if full else 16
    return ResNet8(side), (3, side, side), True


def _cloudsatnet(full: bool):
    """A CloudSatNet-like 4-bit Brevitas CNN on RGB tiles (3x512x512; small: 3x64x64):
    an 8-bit input quantizer, 8-bit first and last weights, 4-bit float-scaled weights and
    ReLUs elsewhere, BatchNorm, max pools, a 2-class linear head."""
    from brevitas import nn as qnn
    from brevitas.quant import Int8ActPerTensorFloat, Int8WeightPerTensorFloat, Uint8ActPerTensorFloat
    from torch import nn

    side = 512 if full else 64
    widths = [3, 16, 16, 32, 32, 64, 64]
    layers = [qnn.QuantIdentity(act_quant=Int8ActPerTensorFloat, return_quant_tensor=True)]
    for index, (cin, cout) in enumerate(zip(widths, widths[1:])):
        layers += [qnn.QuantConv2d(cin, cout, 3, padding=1, bias=False, weight_quant=Int8WeightPerTensorFloat,
                                   weight_bit_width=8 if index == 0 else 4),
                   nn.BatchNorm2d(cout),
                   qnn.QuantReLU(act_quant=Uint8ActPerTensorFloat, bit_width=4, return_quant_tensor=True),
                   nn.MaxPool2d(2)]
    final = side // 2 ** (len(widths) - 1)
    layers += [nn.Flatten(), qnn.QuantLinear(widths[-1] * final * final, 2, bias=True,
                                             weight_quant=Int8WeightPerTensorFloat, weight_bit_width=8)]
    return nn.Sequential(*layers), (3, side, side), True


BREVITAS = {"bnn_resnet18": _bnn_resnet18, "bnn_resnet18_8w8a": _bnn_resnet18_8w8a, "a2q_resnet18": _a2q_resnet18, "mobilenet_v1_4b": _mobilenet_v1_4b,
            "proxylessnas_mobile14_4b": _proxylessnas_mobile14_4b, "proxylessnas_tiny": _proxylessnas_tiny,
            "resnet8_float3": _resnet8_float3,
            "cloudsatnet": _cloudsatnet}


def _export_brevitas(name: str, path, samples: int, full: bool, quantized_input: bool) -> np.ndarray:
    import torch
    from brevitas import nn as qnn
    from brevitas.export import export_qonnx
    from brevitas.graph.calibrate import calibration_mode
    from brevitas.quant import Int8ActPerTensorFloat

    torch.manual_seed(0)
    network, shape, calibrate = BREVITAS[name](full)
    if quantized_input:
        network = torch.nn.Sequential(qnn.QuantIdentity(act_quant=Int8ActPerTensorFloat, return_quant_tensor=True),
                                      network)
    _randomize_batchnorm(network)
    network.train()
    # Brevitas's bnn_pynq ResNets initialise their activation scales from statistics in
    # training mode; calibration_mode would collect them as well, but refuses their
    # shared quantizers.
    with torch.no_grad(), (calibration_mode(network) if calibrate else torch.no_grad()):
        for _ in range(2):
            network(torch.randn(8, *shape))
    network.eval()
    x = torch.randn(samples, *shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_qonnx(network, args=x, export_path=str(path), dynamo=False)
    return x.numpy()


def _resnet8_power_of_two(side: int):
    """ResNet-8 for CIFAR as the zoo's power-of-two model is written: Quant nodes with
    power-of-two scales (2-bit weights and ReLUs, an 8-bit input), Conv with a quantized
    bias, BatchNorm as Mul and Add whose parameters are 32-bit Quant nodes (scale 2^-16),
    residual adds of codes of one scale, an average pool and a dense layer."""
    rng = np.random.default_rng(8)
    nodes, inits = [], []

    def quantized(name, value, scale, bits, **attrs):
        node, more = quant(f"{name}_float", name, scale, bits=bits, **attrs)
        nodes.append(node)
        inits.extend([(f"{name}_float", value), *more])
        return name

    def conv(x, name, cin, cout, kernel=3, stride=1):
        weight = quantized(f"{name}_w", rng.normal(size=(cout, cin, kernel, kernel)) * 0.6, 0.5, 2, narrow=1)
        bias = quantized(f"{name}_b", rng.normal(size=cout) * 0.5, 2.0**-8, 32)
        nodes.append(helper.make_node("Conv", [x, weight, bias], [f"{name}_acc"], name=name, pads=[kernel // 2] * 4,
                                      strides=[stride, stride], kernel_shape=[kernel, kernel]))
        gamma = quantized(f"{name}_gamma", rng.uniform(0.2, 0.8, (1, cout, 1, 1)), 2.0**-16, 32)
        beta = quantized(f"{name}_beta", rng.uniform(-0.5, 0.5, (1, cout, 1, 1)), 2.0**-16, 32)
        nodes.append(helper.make_node("Mul", [f"{name}_acc", gamma], [f"{name}_scaled"], name=f"{name}_bn_mul"))
        nodes.append(helper.make_node("Add", [f"{name}_scaled", beta], [f"{name}_bn"], name=f"{name}_bn_add"))
        return f"{name}_bn"

    def relu_quant(x, name):
        nodes.append(helper.make_node("Relu", [x], [f"{name}_relu"], name=f"{name}_relu"))
        node, more = quant(f"{name}_relu", name, 0.5, bits=2, signed=0)
        nodes.append(node)
        inits.extend(more)
        return name

    def block(x, name, cin, cout, stride):
        branch = relu_quant(conv(x, f"{name}_conv1", cin, cout, stride=stride), f"{name}_act1")
        branch = conv(branch, f"{name}_conv2", cout, cout)
        node, more = quant(branch, f"{name}_branch", 0.5, bits=3)
        nodes.append(node)
        inits.extend(more)
        shortcut = x
        if stride != 1:
            shortcut = conv(x, f"{name}_shortcut", cin, cout, kernel=1, stride=stride)
            node, more = quant(shortcut, f"{name}_shortcut_q", 0.5, bits=3)
            nodes.append(node)
            inits.extend(more)
            shortcut = f"{name}_shortcut_q"
        nodes.append(helper.make_node("Add", [f"{name}_branch", shortcut], [f"{name}_sum"], name=f"{name}_add"))
        return relu_quant(f"{name}_sum", f"{name}_out")

    node, more = quant("x", "x_q", 2.0**-5)
    nodes.append(node)
    inits.extend(more)
    h = relu_quant(conv("x_q", "stem", 3, 16), "stem_act")
    for name, cin, cout, stride in (("stack1", 16, 16, 1), ("stack2", 16, 32, 2), ("stack3", 32, 64, 2)):
        h = block(h, name, cin, cout, stride)
    nodes.append(helper.make_node("GlobalAveragePool", [h], ["pooled"], name="pool"))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten"))
    weight = quantized("dense_w", rng.normal(size=(10, 64)) * 0.5, 2.0**-3, 6)
    nodes.append(helper.make_node("Gemm", ["flat", weight], ["logits"], name="dense", transB=1))
    node, more = quant("logits", "y", 2.0**-4, bits=16)
    nodes.append(node)
    inits.extend(more)
    return model(nodes, inits, (3, side, side))


HAND_BUILT = {"resnet8_power_of_two": _resnet8_power_of_two}
SMALL = ("bnn_resnet18", "a2q_resnet18", "mobilenet_v1_4b", "proxylessnas_mobile14_4b", "resnet8_power_of_two",
         "resnet8_float3", "cloudsatnet")


def export(name: str, path, samples: int = SAMPLES, full: bool = False, quantized_input: bool = False) -> np.ndarray:
    """Model `name` written to `path` as QONNX; returns `samples` seeded sample inputs
    (float32, batch first; the hand-built model's batch is float_scaled_models.BATCH).
    `quantized_input` puts an 8-bit QuantIdentity before a Brevitas model's first layer
    (brevitas_examples' ResNets and MobileNets have none; the hardware takes codes)."""
    if name in HAND_BUILT:
        from float_scaled_models import BATCH

        side = 32 if full else 16
        onnx.save(HAND_BUILT[name](side), str(path))
        return (np.random.default_rng(1).normal(size=(BATCH, 3, side, side)) * 1.5).astype(np.float32)
    return _export_brevitas(name, path, samples, full, quantized_input)
