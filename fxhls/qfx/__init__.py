"""QFX: trainable fixed-point layers that compute exactly what the FPGA computes.

Every layer quantizes with `fxhls.fixed` semantics and learns where its binary
points sit (see `FixedQuantizer`). Weights may be K-hot (sums of at most K signed
powers of two: no multiplier) or binary.
"""

try:
    import torch  # noqa: F401  (QFX layers are torch modules)
except ImportError:
    raise ImportError("fxhls.qfx trains with PyTorch, which is not installed: pip install 'fxhls[train]'") from None

from .adaptive_pool import QAdaptiveAvgPool2dTiled
from .activations import QELU, QExp, QHardSigmoid, QSELU, QSigmoid, QSoftplus, QTanh
from .binary import QSign, binary_sign
from .calibrate import calibrate
from .batchnorm import QBatchNorm1d, QBatchNorm2d
from .config import QFXConfig
from .convert import quantize_model
from .elementwise import (
    QAdaptiveAvgPool2d,
    QAdd,
    QAvgPool2d,
    QFlatten,
    QInput,
    QMaxPool2d,
    QReLU,
)
from .fusion import fuse
from .khot import khot_projection, nearest_khot
from .pools1d import QAdaptiveAvgPool1d, QAvgPool1d, QMaxPool1d, QMean
from .relu_variants import QLeakyReLU, QPReLU, QReLU6
from .reshape import QConcat, QReshape, QScale, QSqueeze, QUnsqueeze
from .resize import QPad, QUpsample
from .softmax import QArgMax, QSoftmax
from .quantizer import FixedQuantizer
from .report import bit_cost, describe_types
from .typed import type_of
from .weighted import QConv1d, QConv2d, QLinear

__all__ = [
    "FixedQuantizer",
    "QInput",
    "QLinear",
    "QConv1d",
    "QConv2d",
    "QBatchNorm1d",
    "QBatchNorm2d",
    "QReLU",
    "QReLU6",
    "QLeakyReLU",
    "QPReLU",
    "QSigmoid",
    "QTanh",
    "QHardSigmoid",
    "QELU",
    "QSELU",
    "QSoftplus",
    "QExp",
    "QSoftmax",
    "QArgMax",
    "QAdd",
    "QScale",
    "QConcat",
    "QReshape",
    "QSqueeze",
    "QUnsqueeze",
    "QMaxPool2d",
    "QAvgPool2d",
    "QAdaptiveAvgPool2d",
    "QAdaptiveAvgPool2dTiled",
    "QMaxPool1d",
    "QAvgPool1d",
    "QAdaptiveAvgPool1d",
    "QMean",
    "QUpsample",
    "QPad",
    "QFlatten",
    "QSign",
    "binary_sign",
    "khot_projection",
    "nearest_khot",
    "type_of",
    "QFXConfig",
    "quantize_model",
    "calibrate",
    "fuse",
    "describe_types",
    "bit_cost",
]
__all__.append("export_onnx")


def __getattr__(name):
    # fxhls.qfx.export_onnx lives in fxhls.onnx.export, which imports the layers above.
    if name == "export_onnx":
        from fxhls.onnx.export import export_onnx

        return export_onnx
    raise AttributeError(f"module 'fxhls.qfx' has no attribute {name!r}")
