"""Lookalikes of the published QONNX MLPs of this field, built as their authors built them
(random weights, random BatchNorm statistics and learned scales; same graph structure):

- `kws_mlp_w3a3`: FINN-examples' keyword-spotting MLP (MLPerf Tiny, hls4ml-finn submission,
  `training/model/models.py` QMLP with `common.py`'s quantizers): MFCC input (1, 10, 49)
  through a constant-scale 8-bit signed narrow quantizer (+-105.391, the python_speech_features
  preprocessing), Flatten, three bias-free QuantLinear 256 with 3-bit per-channel learned
  float weight scales, BatchNorm1d, QuantReLU with a constant 3-bit unsigned scale (max 1.0,
  so 1/7), and a bias-free QuantLinear to 12 classes with a per-tensor learned scale.
- `unsw_nb15_mlp_w2a2`: FINN's cybersecurity tutorial: bipolar input (1, 600), (x + 1) / 2
  on it, QuantLinear 64 (Brevitas's default Int8WeightPerTensorFloat at 2 bits: a float
  scale), BatchNorm1d, QuantReLU (Uint8ActPerTensorFloat at 2 bits), three times, a
  QuantLinear to one output and a binary QuantIdentity (a BipolarQuant) at the end;
  the input annotated BIPOLAR as the tutorial's export does.
- `qkeras_jet_tagger`: the graph `qonnx.converters.from_keras` writes for hls4ml's QKeras jet
  tagger (see the function), built by hand since TensorFlow and QKeras are not installed.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _randomize(network, rng_seed: int) -> None:
    """Trained-looking BatchNorm statistics and learned weight scales (untrained, every scale
    would be its initial value)."""
    import torch

    generator = torch.Generator().manual_seed(rng_seed)
    with torch.no_grad():
        for name, parameter in network.named_parameters():
            if name.endswith("scaling_impl.value"):
                parameter.copy_(0.05 + 0.15 * torch.rand(parameter.shape, generator=generator))
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                size = module.num_features
                module.running_mean.copy_(torch.rand(size, generator=generator) * 0.6 - 0.3)
                module.running_var.copy_(torch.rand(size, generator=generator) * 0.5 + 0.05)
                module.weight.copy_(torch.rand(size, generator=generator) + 0.5)
                module.bias.copy_(torch.rand(size, generator=generator) * 0.7 - 0.2)


def _kws_quantizers():
    """The KWS submission's quantizers (its `model/common.py`), in today's Brevitas."""
    from brevitas.core.bit_width import BitWidthImplType
    from brevitas.core.restrict_val import FloatToIntImplType, RestrictValueType
    from brevitas.core.scaling import ScalingImplType
    from brevitas.core.zero_point import ZeroZeroPoint
    from brevitas.inject import ExtendedInjector
    from brevitas.quant.solver import ActQuantSolver, WeightQuantSolver

    class CommonQuant(ExtendedInjector):
        bit_width_impl_type = BitWidthImplType.CONST
        restrict_scaling_type = RestrictValueType.FP
        zero_point_impl = ZeroZeroPoint
        float_to_int_impl_type = FloatToIntImplType.ROUND
        narrow_range = True
        signed = True
        quant_type = "INT"

    class ScaledWeightQuant(CommonQuant, WeightQuantSolver):
        scaling_impl_type = "parameter"
        scaling_per_output_channel = True

    class CommonActQuant(CommonQuant, ActQuantSolver):
        min_val, max_val = 0.0, 1.0
        scaling_impl_type = ScalingImplType.CONST
        scaling_per_output_channel = False
        narrow_range = False
        signed = False

    class InputActQuantPySpeech(CommonQuant, ActQuantSolver):
        min_val, max_val = -105.391, 16.351
        scaling_impl_type = ScalingImplType.CONST
        scaling_per_output_channel = False

    return ScaledWeightQuant, CommonActQuant, InputActQuantPySpeech


def kws_mlp_w3a3(path, samples: int = 4) -> np.ndarray:
    """The KWS MLP (module docstring) exported to QONNX at `path`; returns `samples` MFCC-like
    inputs (float32, shape (samples, 1, 10, 49), spread as the features are: about +-40)."""
    import brevitas.nn as qnn
    import torch
    from brevitas.export import export_qonnx
    from torch import nn

    weight_quant, act_quant, input_quant = _kws_quantizers()
    torch.manual_seed(0)
    layers, features = [qnn.QuantIdentity(act_quant=input_quant, bit_width=8), nn.Dropout(0.1), nn.Flatten()], 490
    for width in (256, 256, 256):
        layers += [qnn.QuantLinear(features, width, bias=False, weight_bit_width=3,
                                   weight_quant=weight_quant.let(scaling_init=0.1)),
                   nn.BatchNorm1d(width), qnn.QuantReLU(act_quant=act_quant, bit_width=3), nn.Dropout(0.1)]
        features = width
    layers.append(qnn.QuantLinear(features, 12, bias=False, weight_bit_width=3,
                                  weight_quant=weight_quant.let(scaling_init=0.1, scaling_per_output_channel=False)))
    network = nn.Sequential(*layers)
    _randomize(network, 1)
    x = torch.randn(samples, 1, 10, 49) * 30
    export_qonnx(network.eval(), args=x, export_path=str(path), dynamo=False)
    return x.numpy()


def unsw_nb15_mlp_w2a2(path, samples: int = 4) -> np.ndarray:
    """The UNSW-NB15 MLP (module docstring) exported to QONNX at `path`, its input annotated
    BIPOLAR; returns `samples` bipolar inputs (float32 -1 and +1, the last 7 of 600 are the
    tutorial's padding, -1)."""
    import brevitas.nn as qnn
    import torch
    from brevitas.export import export_qonnx
    from brevitas.graph.calibrate import calibration_mode
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from torch import nn

    torch.manual_seed(0)
    layers, features = [], 600
    for width in (64, 64, 64):
        layers += [qnn.QuantLinear(features, width, bias=True, weight_bit_width=2), nn.BatchNorm1d(width),
                   nn.Dropout(0.5), qnn.QuantReLU(bit_width=2)]
        features = width
    layers.append(qnn.QuantLinear(features, 1, bias=True, weight_bit_width=2))
    trained = nn.Sequential(*layers)
    _randomize(trained, 2)

    class CybSecMLPForExport(nn.Module):
        def __init__(self):
            super().__init__()
            self.pretrained = trained
            self.qnt_output = qnn.QuantIdentity(quant_type="binary", scaling_impl_type="const", bit_width=1,
                                                min_val=-1.0, max_val=1.0)

        def forward(self, x):
            return self.qnt_output(self.pretrained((x + torch.tensor([1.0])) / 2.0))

    network = CybSecMLPForExport()
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2, size=(max(samples, 64), 600)).astype(np.float32)
    bits[:, 593:] = 0
    x = torch.from_numpy(2 * bits - 1)
    network.train()
    with torch.no_grad(), calibration_mode(network):  # the activation scales, as training would learn them
        network(x)
    network.eval()
    with torch.no_grad():  # a bias that splits the samples, as a trained detector's does
        trained[-1].bias -= torch.median(trained((x + 1) / 2))
    export_qonnx(network, args=x[:samples], export_path=str(path), dynamo=False)
    model = ModelWrapper(str(path))
    model.set_tensor_datatype(model.graph.input[0].name, DataType["BIPOLAR"])
    model.save(str(path))
    return x[:samples].numpy()


# --- hls4ml's QKeras jet tagger as qonnx.converters.from_keras converts it ----------------------

JET_TAGGER_SHAPE = (16,)


def qkeras_jet_tagger(seed: int = 0) -> onnx.ModelProto:
    """The QONNX graph `qonnx.converters.from_keras` writes for hls4ml's QKeras jet tagger:
    QDense 64, 32, 32 (kernel and bias `quantized_bits(6, 0, alpha=1)`), each followed by a
    QActivation `quantized_relu(6)`, a QDense 5 and a Softmax.

    What the converter writes (qonnx `converters/keras.py`, `converters/qkeras/*`): tf2onnx's
    graph of the stripped Keras model, with its `remove_identity` optimizer disabled, then
    qonnx's `cleanup_model` (its tensor names readable: `global_in`, `Quant_0_param0`, ...):
    - a Dense is `MatMul(x, Quant(kernel))` (kernel (in, out), channels last) and its bias
      `Add(., Quant(bias))` (tf2onnx's BiasAdd);
    - `quantized_bits(6, 0)`: Quant, scale 1 / 2^(bits - integer - keep_negative) = 2^-5,
      zero point 0, bit width 6, signed 1, narrow = symmetric = 0, ROUND; the constants are
      written with `numpy.asarray` of Python numbers: scale float64, zero point and bit width
      int64;
    - `quantized_relu(6)`: `Relu` then Quant, scale 2^-6, unsigned (negative_slope 0), narrow
      0, ROUND;
    - the Softmax (opset 13: axis -1) and an `Identity` on every model output (tf2onnx names
      outputs through one and qonnx keeps it); the input float32 (1, 16), no quantizer before
      the first MatMul.
    """
    rng = np.random.default_rng(seed)
    nodes, initializers, counter = [], [], iter(range(100))

    def constant(name, value, dtype):
        initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def quant(x, bits, integer, signed):
        index = next(counter)
        scale = 1.0 / 2 ** (bits - integer - signed)
        inputs = [x, constant(f"Quant_{index}_param0", scale, np.float64),
                  constant(f"Quant_{index}_param1", 0, np.int64), constant(f"Quant_{index}_param2", bits, np.int64)]
        nodes.append(helper.make_node("Quant", inputs, [f"Quant_{index}_out0"], name=f"Quant_{index}",
                                      domain="qonnx.custom_op.general", signed=signed, narrow=0, rounding_mode="ROUND"))
        return f"Quant_{index}_out0"

    x, features = "global_in", JET_TAGGER_SHAPE[0]
    for layer, width in enumerate((64, 32, 32, 5)):
        kernel = constant(f"MatMul_{layer}_param0", rng.uniform(-1, 1, (features, width)) * (3 / features) ** 0.5,
                          np.float32)
        bias = constant(f"Add_{layer}_param0", rng.normal(0, 0.25, width), np.float32)
        nodes.append(helper.make_node("MatMul", [x, quant(kernel, 6, 0, 1)], [f"MatMul_{layer}_out0"],
                                      name=f"MatMul_{layer}"))
        nodes.append(helper.make_node("Add", [f"MatMul_{layer}_out0", quant(bias, 6, 0, 1)], [f"Add_{layer}_out0"],
                                      name=f"Add_{layer}"))
        x, features = f"Add_{layer}_out0", width
        if layer < 3:
            nodes.append(helper.make_node("Relu", [x], [f"Relu_{layer}_out0"], name=f"Relu_{layer}"))
            x = quant(f"Relu_{layer}_out0", 6, 0, 0)
    nodes.append(helper.make_node("Softmax", [x], ["Softmax_0_out0"], name="Softmax_0", axis=-1))
    nodes.append(helper.make_node("Identity", ["Softmax_0_out0"], ["global_out"], name="Identity_0"))
    graph = helper.make_graph(nodes, "qkeras_to_qonnx_converted",
                              [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, [1, *JET_TAGGER_SHAPE])],
                              [helper.make_tensor_value_info("global_out", TensorProto.FLOAT, [1, 5])], initializers)
    return helper.make_model(graph, producer_name="tf2onnx", opset_imports=[
        helper.make_opsetid("", 13), helper.make_opsetid("qonnx.custom_op.general", 1)])
