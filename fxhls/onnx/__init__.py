"""ONNX in and out: export of QFX models; import of fxhls's own ONNX and of QONNX (Brevitas) into the IR."""

from .export import export_onnx
from .load import load_onnx

__all__ = ["export_onnx", "load_onnx"]
