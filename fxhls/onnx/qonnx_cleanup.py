"""Recognise a QONNX model and fold what Brevitas computes in the graph, with qonnx, before import.

Brevitas exports shapes and constants computed in the graph (Shape, Gather, Concat,
Constant nodes); qonnx's shape inference and constant folding turn them into static
shapes and initializers, keeping the quantizers. These are the steps of
`qonnx.util.cleanup.cleanup_model` that matter here, without its renaming of nodes and
tensors, so that errors name them as the file does. qonnx is imported here only, and
only for QONNX models: fxhls's own ONNX files never need it.
"""

from __future__ import annotations

import onnx

# The domains QONNX quantizers are written in (the last two by older tools); the
# quantizers are moved to the first, as qonnx's cleanup does.
QONNX_DOMAINS = ("qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas")
_QUANTIZERS = ("Quant", "BipolarQuant", "Trunc")


def is_qonnx(proto: onnx.ModelProto) -> bool:
    return any(node.domain in QONNX_DOMAINS for node in proto.graph.node)


def cleaned(proto: onnx.ModelProto, source) -> onnx.ModelProto:
    """`proto` with shapes inferred and constants folded (a copy: `proto` stays as it was)."""
    try:
        from qonnx.core.modelwrapper import ModelWrapper
        from qonnx.transformation.fold_constants import FoldConstants
        from qonnx.transformation.infer_shapes import InferShapes
    except ImportError:
        raise ValueError(f"{source}: a QONNX model; loading it needs the qonnx package (pip install qonnx)") from None
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    for node in copy.graph.node:
        if node.op_type in _QUANTIZERS and node.domain in QONNX_DOMAINS:
            node.domain = QONNX_DOMAINS[0]
    try:
        model = ModelWrapper(copy).transform(InferShapes())
        return model.transform(FoldConstants(exclude_op_types=list(_QUANTIZERS))).model
    except Exception as err:  # qonnx and onnxruntime raise many kinds; report the first line
        reason = (str(err).strip().splitlines() or [""])[0]
        raise ValueError(f"{source}: qonnx could not fold the constants of this QONNX model "
                         f"({type(err).__name__}: {reason})") from None
