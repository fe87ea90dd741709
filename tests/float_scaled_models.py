"""Float-scaled QONNX models for tests: hand-built ones whose quantizers that feed a MatMul
or Conv have scales with few significant bits (so qonnx's float32 sums are exact), and
FINN's example networks from brevitas_examples.bnn_pynq (untrained, random BatchNorm).
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.infer_shapes import InferShapes

QONNX = "qonnx.custom_op.general"
BATCH = 16


def model(nodes, initializers, shape, batch: int = BATCH):
    """The QONNX model of `nodes` from input x (batch, *shape) to output y, its output's
    shape inferred by qonnx (onnx.checker wants every graph output shaped)."""
    graph = helper.make_graph(_in_order(nodes, {"x", *(name for name, _ in initializers)}), "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, *shape])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in initializers])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(QONNX, 2)])
    inferred = ModelWrapper(proto).transform(InferShapes()).model
    proto.graph.output[0].CopyFrom(next(value for value in inferred.graph.output if value.name == "y"))
    return proto


def _in_order(nodes, available: set) -> list:
    """`nodes` in an order where each reads only values made before it (ONNX wants them sorted)."""
    pending, ordered, available = list(nodes), [], set(available)
    while pending:
        ready = next(node for node in pending if all(name in available for name in node.input if name))
        pending.remove(ready)
        ordered.append(ready)
        available.update(ready.output)
    return ordered


def quant(x, y, scale, bits=8, zero=0.0, **attrs):
    attrs = {"signed": 1, "narrow": 0, "rounding_mode": "ROUND", **attrs}
    node = helper.make_node("Quant", [x, f"{y}_scale", f"{y}_zero", f"{y}_bits"], [y], name=y, domain=QONNX, **attrs)
    return node, [(f"{y}_scale", scale), (f"{y}_zero", zero), (f"{y}_bits", bits)]


def mlp():
    """(x - mean) / std -> Quant -> Gemm (per-channel weight scales, bias) -> Mul, Add, Relu ->
    Quant (unsigned) -> Gemm -> Mul -> y (float, on the host)."""
    rng = np.random.default_rng(3)
    nodes, inits = [], [("mean", rng.normal(size=8)), ("std", rng.uniform(0.5, 2, 8))]
    nodes += [helper.make_node("Sub", ["x", "mean"], ["centred"]), helper.make_node("Div", ["centred", "std"], ["n"])]
    for node, more in [quant("n", "q0", 3 * 2.0**-6), quant("w1", "w1q", np.array([5, 3, 7, 1, 3, 5, 7, 3] * 2)[:, None]
                                                                 * 2.0**-8, narrow=1),
                       quant("q1in", "q1", 7 * 2.0**-7, signed=0), quant("w2", "w2q", 3 * 2.0**-7, bits=6)]:
        nodes.append(node)
        inits += more
    inits += [("w1", rng.normal(size=(16, 8)) * 0.4), ("b1", rng.integers(-64, 64, 16) * 2.0**-6),
              ("gamma", rng.uniform(-1.5, 1.5, 16)), ("beta", rng.normal(size=16)), ("w2", rng.normal(size=(4, 16))),
              ("out_scale", rng.uniform(0.5, 1.5, 4))]
    nodes[3:3] = [helper.make_node("Gemm", ["q0", "w1q", "b1"], ["acc1"], transB=1),
                  helper.make_node("Mul", ["acc1", "gamma"], ["bn1"]),
                  helper.make_node("Add", ["bn1", "beta"], ["bn2"]),
                  helper.make_node("Relu", ["bn2"], ["q1in"])]
    nodes += [helper.make_node("Gemm", ["q1", "w2q"], ["acc2"], transB=1),
              helper.make_node("Mul", ["acc2", "out_scale"], ["y"])]
    return model(nodes, inits, (8,))


def cnn():
    """Quant -> Conv (per-channel weight scales) -> Add -> Relu -> Quant -> MaxPool -> Flatten -> Gemm
    -> Quant (arbitrary scale) -> y."""
    rng = np.random.default_rng(4)
    nodes, inits = [], [("wc", rng.normal(size=(4, 2, 3, 3)) * 0.5), ("shift", rng.normal(size=(1, 4, 1, 1))),
                        ("wd", rng.normal(size=(3, 16)) * 0.1)]
    for node, more in [quant("x", "q0", 3 * 2.0**-5, bits=6),
                       quant("wc", "wcq", np.array([3, 5, 7, 1])[:, None, None, None] * 2.0**-6),
                       quant("r", "q1", 5 * 2.0**-6, signed=0, rounding_mode="FLOOR"),
                       quant("wd", "wdq", 3 * 2.0**-7), quant("acc2", "y", 0.173, bits=7)]:
        nodes.append(node)
        inits += more
    nodes[2:2] = [helper.make_node("Conv", ["q0", "wcq"], ["acc1"], pads=[1, 1, 1, 1]),
                  helper.make_node("Add", ["acc1", "shift"], ["shifted"]), helper.make_node("Relu", ["shifted"], ["r"])]
    nodes[6:6] = [helper.make_node("MaxPool", ["q1"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]),
                  helper.make_node("Flatten", ["pooled"], ["flat"]),
                  helper.make_node("Gemm", ["flat", "wdq"], ["acc2"], transB=1)]
    return model(nodes, inits, (2, 4, 4))


def trunc_pool(rounding: str = "FLOOR"):
    """Quant (unsigned) -> AveragePool 2x2 -> Trunc (4x the scale, 6 bits, `rounding`) -> Mul -> y:
    Brevitas's TruncAvgPool on float-scaled codes."""
    first, inits = quant("x", "q0", 3 * 2.0**-6, signed=0)
    trunc = helper.make_node("Trunc", ["pooled", "ts", "tz", "tb", "tos", "tob"], ["t"], name="trunc", domain=QONNX,
                             rounding_mode=rounding, signed=0, narrow=0)
    pool = helper.make_node("AveragePool", ["q0"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2])
    return model([first, pool, trunc, helper.make_node("Mul", ["t", "c"], ["y"])],
                 inits + [("ts", 3 * 2.0**-6), ("tz", 0.0), ("tb", 10.0), ("tos", 3 * 2.0**-4), ("tob", 6.0),
                          ("c", 0.77)], (2, 4, 4))


def finn_example(name: str, path, samples: int = 4) -> np.ndarray:
    """FINN's example network `name` (e.g. "tfc_1w1a") exported to QONNX at `path`; returns
    its `samples` sample inputs (float32)."""
    import torch
    from brevitas.export import export_qonnx
    from brevitas_examples.bnn_pynq.models import model_with_cfg

    torch.manual_seed(0)
    network, _ = model_with_cfg(name, pretrained=False)
    for module in network.modules():
        if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            with torch.no_grad():
                module.running_mean.uniform_(-2, 2)
                module.running_var.uniform_(0.5, 4)
                module.weight.uniform_(-1.5, 1.5)
                module.bias.uniform_(-1, 1)
    x = torch.rand((samples, 1, 28, 28) if "fc" in name else (samples, 3, 32, 32)) * 2 - 1
    export_qonnx(network.eval(), args=x, export_path=str(path), dynamo=False)
    return x.numpy()


def resnet18(name: str, path, samples: int = 2) -> np.ndarray:
    """ResNet-18 on (3, 32, 32) images, untrained (seeded), exported to QONNX at `path` for a
    batch of `samples`; returns those sample inputs (float32). `name` "bnn_pynq":
    brevitas_examples.bnn_pynq's resnet18_4w4a; "a2q": brevitas_examples' A2Q quant_resnet18
    (4-bit weights and activations, accumulator-aware weights for a 16-bit accumulator).
    Their last layer is a float Gemm of float-scaled codes (no quantizer after it)."""
    import torch
    from brevitas.export import export_qonnx

    torch.manual_seed(0)
    if name == "bnn_pynq":
        from brevitas_examples.bnn_pynq.models import model_with_cfg

        network, _ = model_with_cfg("resnet18_4w4a", pretrained=False)
    else:
        from brevitas_examples.imagenet_classification.a2q.quant import CommonIntAccumulatorAwareWeightQuant
        from brevitas_examples.imagenet_classification.a2q.resnet import quant_resnet18

        network = quant_resnet18(act_bit_width=4, acc_bit_width=16, weight_bit_width=4,
                                 weight_quant=CommonIntAccumulatorAwareWeightQuant)
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            with torch.no_grad():
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
    network.train()
    with torch.no_grad():
        for _ in range(2):  # the activations' statistics
            network(torch.randn(8, 3, 32, 32))
    x = torch.randn(samples, 3, 32, 32)
    export_qonnx(network.eval(), args=x, export_path=str(path), dynamo=False)
    return x.numpy()


def _brevitas_default_models() -> dict:
    """name -> (model, input shape per sample): Brevitas's default float quantizers (per-tensor
    activations, per-tensor or per-channel weights, float biases, float BatchNorm), and
    asymmetric activations (ShiftedUint8ActPerTensorFloat: a zero point)."""
    from brevitas import nn as qnn
    from brevitas.quant import (Int8ActPerTensorFloat, Int8WeightPerChannelFloat, Int8WeightPerTensorFloat,
                                ShiftedUint8ActPerTensorFloat, Uint8ActPerTensorFloat)
    from torch import nn

    class Residual(nn.Module):
        """x (Int8ActPerTensorFloat) + its two-layer branch (ReLU at Uint8ActPerTensorFloat,
        then Int8ActPerTensorFloat): a residual add of two learned scales, requantized."""

        def __init__(self):
            super().__init__()
            self.input = qnn.QuantIdentity(act_quant=Int8ActPerTensorFloat, return_quant_tensor=True)
            self.fc1 = qnn.QuantLinear(16, 16, weight_quant=Int8WeightPerTensorFloat)
            self.relu = qnn.QuantReLU(act_quant=Uint8ActPerTensorFloat, return_quant_tensor=True)
            self.fc2 = qnn.QuantLinear(16, 16, weight_quant=Int8WeightPerChannelFloat)
            self.branch = qnn.QuantIdentity(act_quant=Int8ActPerTensorFloat, return_quant_tensor=True)
            self.joined = qnn.QuantIdentity(act_quant=Int8ActPerTensorFloat, return_quant_tensor=True)
            self.head = qnn.QuantLinear(16, 10)

        def forward(self, x):
            x = self.input(x)
            branch = self.branch(self.fc2(self.relu(self.fc1(x))))
            return self.head(self.joined(getattr(x, "value", x) + getattr(branch, "value", branch)))

    def conv(cin, cout):
        return qnn.QuantConv2d(cin, cout, 3, padding=1, weight_quant=Int8WeightPerChannelFloat)

    return {
        "brevitas_residual": (Residual(), (16,)),
        "brevitas_mlp": (nn.Sequential(qnn.QuantIdentity(return_quant_tensor=True), qnn.QuantLinear(64, 64),
                                       qnn.QuantReLU(return_quant_tensor=True), qnn.QuantLinear(64, 32),
                                       qnn.QuantReLU(return_quant_tensor=True), qnn.QuantLinear(32, 10)), (64,)),
        "brevitas_mlp_zero_point": (nn.Sequential(qnn.QuantIdentity(act_quant=ShiftedUint8ActPerTensorFloat,
                                                                    return_quant_tensor=True),
                                                  qnn.QuantLinear(16, 16, bias=False),
                                                  qnn.QuantIdentity(act_quant=ShiftedUint8ActPerTensorFloat,
                                                                    return_quant_tensor=True),
                                                  qnn.QuantLinear(16, 10, bias=False)), (16,)),
        "brevitas_cnn_bn": (nn.Sequential(qnn.QuantIdentity(return_quant_tensor=True), conv(3, 16),
                                          nn.BatchNorm2d(16), qnn.QuantReLU(return_quant_tensor=True),
                                          nn.MaxPool2d(2), conv(16, 16), nn.BatchNorm2d(16),
                                          qnn.QuantReLU(return_quant_tensor=True), nn.MaxPool2d(2), nn.Flatten(),
                                          qnn.QuantLinear(16 * 4 * 4, 10)), (3, 16, 16)),
    }


BREVITAS_DEFAULT = ("brevitas_mlp", "brevitas_mlp_zero_point", "brevitas_cnn_bn", "brevitas_residual")


def brevitas_default(name: str, path, samples: int = 4) -> np.ndarray:
    """Model `name` of BREVITAS_DEFAULT, calibrated on seeded random data (its BatchNorm
    given random scales and shifts) and exported to QONNX at `path`; returns `samples`
    sample inputs (float32)."""
    import torch
    from brevitas.export import export_qonnx
    from brevitas.graph.calibrate import calibration_mode

    torch.manual_seed(0)
    network, shape = _brevitas_default_models()[name]
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            with torch.no_grad():
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    network.train()
    with torch.no_grad(), calibration_mode(network):
        for _ in range(4):
            network(torch.randn(32, *shape))
    network.eval()
    x = torch.randn(samples, *shape)
    export_qonnx(network, args=x, export_path=str(path), dynamo=False)
    return x.numpy()


def residual_wide():
    """Quant (3 * 2^-6) -> two quantizers of it (scales 0.0123 and 0.3: their float32 values
    round) added -> Quant (5 * 2^-7) -> Gemm (weights 3 * 2^-7, a bias) -> Quant to 16 bits (2^-10) -> Mul
    -> y: a residual add of two scales, and a requantization too wide for thresholds."""
    rng = np.random.default_rng(6)
    nodes, inits = [], [("w", rng.normal(size=(6, 8)) * 0.5), ("b", rng.integers(-32, 32, 6) * 2.0**-5),
                        ("c", 0.7)]
    for node, more in [quant("x", "q0", 3 * 2.0**-6), quant("q0", "a", 0.0123), quant("q0", "b_q", 0.3, bits=4),
                       quant("sum", "q1", 5 * 2.0**-7),
                       quant("w", "wq", 3 * 2.0**-7), quant("acc", "q2", 2.0**-10, bits=16)]:
        nodes.append(node)
        inits += more
    nodes += [helper.make_node("Add", ["a", "b_q"], ["sum"], name="residual"),
              helper.make_node("Gemm", ["q1", "wq", "b"], ["acc"], transB=1),
              helper.make_node("Mul", ["q2", "c"], ["y"])]
    return model(nodes, inits, (8,))


WIDE_INPUT_SCALE = 0.0173


def wide_requantization(bits: int, batch: int = BATCH, zero: float = 0.0):
    """x -> Quant (0.0173, 16 bits) -> Mul (a float per channel, 4 channels) -> Quant
    (0.0123, `bits`, zero point `zero`) -> y: the input's codes are the accumulator a float32 chain requantizes
    to more bits than thresholds take, so that a test can feed it every value."""
    nodes, inits = [helper.make_node("Mul", ["q0", "c"], ["m"])], [("c", [0.7371, -1.3113, 0.2419, 2.9871])]
    for node, more in [quant("x", "q0", WIDE_INPUT_SCALE, bits=16), quant("m", "y", 0.0123, bits=bits, zero=zero)]:
        nodes.append(node)
        inits += more
    return model(nodes, inits, (4,), batch)


def brevitas_wide(bits: int, path, samples: int = 16) -> np.ndarray:
    """QuantIdentity -> QuantLinear 16->16 (Int8WeightPerTensorFloat) -> QuantIdentity
    (Int8ActPerTensorFloat at `bits` bits) -> QuantLinear 16->4, calibrated on seeded random
    data and exported to QONNX at `path`; returns `samples` sample inputs (float32)."""
    import torch
    from brevitas import nn as qnn
    from brevitas.export import export_qonnx
    from brevitas.graph.calibrate import calibration_mode
    from brevitas.quant import Int8ActPerTensorFloat, Int8WeightPerTensorFloat

    wide = type(f"Int{bits}ActPerTensorFloat", (Int8ActPerTensorFloat,), {"bit_width": bits})
    torch.manual_seed(0)
    network = torch.nn.Sequential(qnn.QuantIdentity(return_quant_tensor=True),
                                  qnn.QuantLinear(16, 16, weight_quant=Int8WeightPerTensorFloat),
                                  qnn.QuantIdentity(act_quant=wide, return_quant_tensor=True), qnn.QuantLinear(16, 4))
    network.train()
    with torch.no_grad(), calibration_mode(network):
        for _ in range(3):
            network(torch.randn(32, 16))
    network.eval()
    x = torch.randn(samples, 16)
    export_qonnx(network, args=x, export_path=str(path), dynamo=False)
    return x.numpy()


def first_conv_on_the_float_input(preprocess: bool = True):
    """(x - mean) per channel -> Conv 3->8, 3x3, pad 1, per-channel learned weight scales and a
    bias (no Quant before it: a Brevitas QuantConv2d without an input quantizer) ->
    BatchNormalization -> Relu -> Quant (0.0731, 4 bits, unsigned) -> Conv 8->4 of its codes
    -> Quant (0.173, 6 bits) -> y."""
    rng = np.random.default_rng(21)
    first_input = "centred" if preprocess else "x"
    nodes = [helper.make_node("Conv", [first_input, "w1q", "b1"], ["c1"], name="first_conv", pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c1", "gamma", "beta", "mean1", "var1"], ["bn"], name="bn"),
             helper.make_node("Relu", ["bn"], ["r"], name="relu"),
             helper.make_node("Conv", ["a1", "w2q"], ["c2"], name="second_conv", pads=[1, 1, 1, 1])]
    inits = [("w1", rng.normal(size=(8, 3, 3, 3)) * 0.4), ("b1", rng.normal(size=8) * 0.1),
             ("gamma", rng.uniform(0.5, 1.5, 8)), ("beta", rng.normal(size=8) * 0.2),
             ("mean1", rng.normal(size=8) * 0.1), ("var1", rng.uniform(0.5, 2, 8)),
             ("w2", rng.normal(size=(4, 8, 3, 3)) * 0.3)]
    if preprocess:
        nodes.append(helper.make_node("Sub", ["x", "mean"], ["centred"], name="centre"))
        inits.append(("mean", rng.normal(size=(3, 1, 1)) * 0.2))
    for node, more in [quant("w1", "w1q", rng.uniform(0.01, 0.03, (8, 1, 1, 1)), narrow=1),
                       quant("r", "a1", 0.0731, bits=4, signed=0), quant("w2", "w2q", 0.0213, bits=4, narrow=1),
                       quant("c2", "y", 0.173, bits=6)]:
        nodes.append(node)
        inits += more
    return model(nodes, inits, (3, 10, 10))
