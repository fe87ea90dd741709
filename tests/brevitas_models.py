"""A zoo of small Brevitas models with fixed-point quantizers, exported to QONNX, for tests.

`zoo(directory)` returns `(name, onnx_path, inputs)` for every model: the QONNX file
(`brevitas.export.export_qonnx`) and float32 sample inputs, batch first. The models
are built, calibrated on seeded random data and exported once per directory (the
files are reused when present), so tests in other files can share them:

    from brevitas_models import zoo
    for name, path, inputs in zoo(tmp_path_factory.mktemp("brevitas")): ...

The batch size of the export is the number of sample inputs (Brevitas writes a static
batch; qonnx's executor runs that shape only).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import torch
from brevitas import nn as qnn
from brevitas.export import export_qonnx
from brevitas.graph.calibrate import calibration_mode
from brevitas.inject.enum import FloatToIntImplType
from brevitas.quant import (Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint, Int16Bias,
                            SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst,
                            Uint8ActPerTensorFixedPoint)
from torch import nn

SAMPLES = 32


class Int4Weight(Int8WeightPerTensorFixedPoint):
    bit_width = 4


class Int4Act(Int8ActPerTensorFixedPoint):
    bit_width = 4


class Uint4ActFloor(Uint8ActPerTensorFixedPoint):
    bit_width = 4
    float_to_int_impl_type = FloatToIntImplType.FLOOR


class UnitBinaryWeight(SignedBinaryWeightPerTensorConst):
    scaling_const = 1.0


class HalfBinaryWeight(SignedBinaryWeightPerTensorConst):
    scaling_const = 0.5


def _linear(inputs, outputs, weight=Int8WeightPerTensorFixedPoint, last=False):
    """A fixed-point linear layer; the `last` one of a model returns a plain tensor."""
    return qnn.QuantLinear(inputs, outputs, weight_quant=weight, bias_quant=Int16Bias, return_quant_tensor=not last)


def _conv(inputs, outputs, **kwargs):
    return qnn.QuantConv2d(inputs, outputs, 3, weight_quant=Int8WeightPerTensorFixedPoint, bias_quant=Int16Bias,
                           return_quant_tensor=True, **kwargs)


def _act(quant=Int8ActPerTensorFixedPoint, last=False):
    return qnn.QuantIdentity(act_quant=quant, return_quant_tensor=not last)


def _relu(quant=Uint8ActPerTensorFixedPoint):
    return qnn.QuantReLU(act_quant=quant, return_quant_tensor=True)


class _Residual(nn.Module):
    """x + conv(relu(conv(x))), both terms quantized alike, then a quantized ReLU."""

    def __init__(self):
        super().__init__()
        self.input, self.conv1, self.relu1 = _act(), _conv(3, 3, padding=1), _relu()
        self.conv2, self.branch = _conv(3, 3, padding=1), qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint)
        self.shortcut = qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint)
        self.relu2, self.head = _relu(), _linear(3 * 4 * 4, 4, last=True)

    def forward(self, x):
        x = self.input(x)
        total = self.branch(self.conv2(self.relu1(self.conv1(x)))) + self.shortcut(x)
        return self.head(self.relu2(total).flatten(1))


class _ReshapeTranspose(nn.Module):
    """(24,) -> (4, 6) -> (6, 4) -> a linear layer on the last axis (MatMul + Add) -> flatten -> linear."""

    def __init__(self):
        super().__init__()
        self.input, self.inner, self.relu = _act(), _linear(4, 3), _relu()
        self.head = _linear(18, 2, last=True)

    def forward(self, x):
        x = self.input(x)
        x = x.reshape(x.shape[0], 4, 6).transpose(1, 2)
        return self.head(self.relu(self.inner(x)).flatten(1))


class _ExactFloatBatchNorm(nn.Sequential):
    """A float BatchNorm whose folding is exact: var + eps = 1 or 4, dyadic gamma, beta, mean."""

    def __init__(self):
        batchnorm = nn.BatchNorm2d(2, eps=2.0**-10, momentum=0.0)  # calibration keeps the statistics
        with torch.no_grad():
            batchnorm.running_var.copy_(torch.tensor([1.0, 4.0]) - 2.0**-10)
            batchnorm.running_mean.copy_(torch.tensor([0.25, -0.5]))
            batchnorm.weight.copy_(torch.tensor([0.75, 1.5]))
            batchnorm.bias.copy_(torch.tensor([-0.125, 0.5]))
        super().__init__(qnn.QuantIdentity(act_quant=Int4Act), batchnorm, _relu(), nn.Flatten(),
                         _linear(2 * 4 * 4, 3, last=True))


def _batchnorm_gap_cnn():
    """Conv, quantized BatchNorm (Mul and Add), ReLU, global average pool, linear. Exported
    with dynamo, the pool is a ReduceMean and the flatten a Reshape."""
    return nn.Sequential(
        _act(), _conv(3, 4, padding=1, stride=2),
        qnn.BatchNorm2dToQuantScaleBias(4, input_quant=Int8ActPerTensorFixedPoint,
                                        weight_quant=Int8WeightPerTensorFixedPoint, bias_quant=Int16Bias,
                                        return_quant_tensor=True),
        _relu(), qnn.TruncAdaptiveAvgPool2d((1, 1)), nn.Flatten(), _linear(4, 3, last=True))


def _models():
    """name -> (model, input shape per sample, export with torch's dynamo exporter)."""
    return {
        "mlp_int8": (nn.Sequential(_act(), _linear(8, 16), _relu(), _linear(16, 4, last=True)), (8,), False),
        "mlp_int4_floor": (nn.Sequential(_act(Int4Act), _linear(8, 12, Int4Weight), _relu(Uint4ActFloor),
                                         _linear(12, 4, Int4Weight), _act(Int4Act, last=True)), (8,), False),
        "cnn_pools": (nn.Sequential(_act(), _conv(3, 4, padding=1), _relu(), nn.MaxPool2d(2),
                                    _conv(4, 4, padding=1), _relu(), qnn.TruncAvgPool2d(2), nn.Flatten(),
                                    _linear(16, 5, last=True)), (3, 8, 8), False),
        "cnn_quant_batchnorm_gap": (_batchnorm_gap_cnn(), (3, 8, 8), False),
        "cnn_quant_batchnorm_gap_dynamo": (_batchnorm_gap_cnn(), (3, 8, 8), True),
        "residual": (_Residual(), (3, 4, 4), False),
        "binary": (nn.Sequential(_act(SignedBinaryActPerTensorConst),
                                 qnn.QuantLinear(8, 8, bias=False, weight_quant=UnitBinaryWeight),
                                 _act(SignedBinaryActPerTensorConst),
                                 qnn.QuantLinear(8, 4, bias=False, weight_quant=HalfBinaryWeight)), (8,), False),
        "reshape_transpose": (_ReshapeTranspose(), (24,), False),
        "exact_float_batchnorm": (_ExactFloatBatchNorm(), (2, 4, 4), False),
    }


NAMES = tuple(_models())


def build(name: str, seed: int = 0) -> tuple[nn.Module, torch.Tensor, bool]:
    """Model `name` (calibrated, eval mode), its sample inputs, and whether to export with dynamo."""
    torch.manual_seed(seed)
    model, shape, dynamo = _models()[name]
    _randomize_scale_bias(model)
    calibration = torch.randn(4 * SAMPLES, *shape)
    model.train()
    with torch.no_grad(), calibration_mode(model):
        for batch in calibration.split(SAMPLES):
            model(batch)
    model.eval()
    return model, (torch.randn(SAMPLES, *shape) * 1.5).float(), dynamo


def exported(name: str, directory) -> tuple[Path, np.ndarray]:
    """Model `name` exported to QONNX in `directory` (reused when present), and its inputs."""
    path, inputs_path = Path(directory) / f"{name}.onnx", Path(directory) / f"{name}.npy"
    if not (path.exists() and inputs_path.exists()):
        model, inputs, dynamo = build(name)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            export_qonnx(model, args=inputs, export_path=str(path), dynamo=dynamo)
        np.save(inputs_path, inputs.numpy())
    return path, np.load(inputs_path)


def zoo(directory) -> list[tuple[str, Path, np.ndarray]]:
    """(name, QONNX path, float32 inputs) for every model of the zoo."""
    return [(name, *exported(name, directory)) for name in NAMES]


def _randomize_scale_bias(model: nn.Module) -> None:
    """Quantized BatchNorm layers start as the identity; give them per-channel values."""
    for module in model.modules():
        if isinstance(module, qnn.BatchNorm2dToQuantScaleBias):
            with torch.no_grad():
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
