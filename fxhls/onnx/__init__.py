"""ONNX in and out: export of QFX models; import of fxhls's own ONNX and of QONNX (Brevitas) into the IR.

Import needs numpy only; `export_onnx` (QFX models are PyTorch) loads torch on first use.
"""

from .load import load_onnx

__all__ = ["export_onnx", "load_onnx"]


def __getattr__(name: str):
    if name == "export_onnx":
        from .export import export_onnx

        return export_onnx
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
