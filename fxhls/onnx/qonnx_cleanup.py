"""Recognise a QONNX model and fold what Brevitas computes in the graph, with qonnx, before import.

Brevitas exports shapes and constants computed in the graph (Shape, Gather, Concat,
Constant nodes); qonnx's shape inference and constant folding turn them into static
shapes and initializers, keeping the quantizers, and a Transpose of quantized constant
weights (Brevitas's bias-free QuantLinear: Quant -> Transpose -> MatMul) is folded into the
quantizer's initializers (each initializer first made one node's own), so a per-channel
weight scale is transposed with its weights. A graph input annotated with a QONNX integer
or fixed-point datatype (FINN's `finn_datatype`, e.g. the BIPOLAR input of FINN's
cybersecurity MLP) is read through the quantizer of that datatype, scale 1 (its own for a
fixed-point type): on the values the annotation allows it changes nothing, and it makes
the input codes the hardware takes. These are the steps of
`qonnx.util.cleanup.cleanup_model` that matter here, without its renaming of nodes and
tensors, so that errors name them as the file does. qonnx is imported here only, and
only for QONNX models: fxhls's own ONNX files never need it.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

# The domains QONNX quantizers are written in (the last two by older tools); the
# quantizers are moved to the first, as qonnx's cleanup does.
QONNX_DOMAINS = ("qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas")
_QUANTIZERS = ("Quant", "BipolarQuant", "Trunc")


def is_qonnx(proto: onnx.ModelProto) -> bool:
    """Whether `proto` is a QONNX model of another tool, to be cleaned by qonnx and read as
    qonnx computes it. `fxhls.qfx.export_onnx` writes QONNX quantizers too, but its files have
    static shapes and initializers, and their float64 tensors (declared so) make qonnx's
    executor compute exactly, as fxhls reads them; so they are read without qonnx."""
    return proto.producer_name != "fxhls" and any(node.domain in QONNX_DOMAINS for node in proto.graph.node)


def cleaned(proto: onnx.ModelProto, source) -> onnx.ModelProto:
    """`proto` with shapes inferred and constants folded (a copy: `proto` stays as it was)."""
    try:
        from qonnx.core.modelwrapper import ModelWrapper
        from qonnx.transformation.fold_constants import FoldConstants
        from qonnx.transformation.general import GiveUniqueParameterTensors
        from qonnx.transformation.infer_shapes import InferShapes
        from qonnx.transformation.quant_constant_folding import FoldTransposeIntoQuantInit
    except ImportError:
        raise ValueError(f"{source}: a QONNX model; loading it needs the qonnx package (pip install qonnx)") from None
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    for node in copy.graph.node:
        if node.op_type in _QUANTIZERS and node.domain in QONNX_DOMAINS:
            node.domain = QONNX_DOMAINS[0]
    try:
        model = ModelWrapper(copy).transform(InferShapes()).transform(GiveUniqueParameterTensors())
        model = model.transform(FoldConstants(exclude_op_types=list(_QUANTIZERS)))
        model = model.transform(FoldTransposeIntoQuantInit())
    except Exception as err:  # qonnx and onnxruntime raise many kinds; report the first line
        reason = (str(err).strip().splitlines() or [""])[0]
        raise ValueError(f"{source}: qonnx could not fold the constants of this QONNX model "
                         f"({type(err).__name__}: {reason})") from None
    if _quantize_typed_inputs(model):
        model = model.transform(InferShapes())
    return model.model


def _quantize_typed_inputs(model) -> bool:
    """Put the quantizer of its QONNX datatype after each graph input annotated with one
    (integer or fixed point, BIPOLAR as a BipolarQuant); other annotations change nothing.
    Whether it put one."""
    graph, constants = model.graph, {init.name for init in model.graph.initializer}
    typed = False
    for position, value in enumerate(v for v in graph.input if v.name not in constants):
        datatype = model.get_tensor_datatype(value.name)
        if not (datatype.is_integer() or datatype.is_fixed_point()):
            continue
        quantized = f"{value.name}_{'bipolar' if datatype.name == 'BIPOLAR' else 'codes'}"
        for node in graph.node:
            node.input[:] = [quantized if name == value.name else name for name in node.input]
        for output in graph.output:
            if output.name == value.name:
                raise ValueError(f"input {value.name!r} is a graph output too; a typed input that is an output "
                                 f"is not supported")
        scale = datatype.scale_factor() if datatype.is_fixed_point() else 1.0
        parameters = [(f"{quantized}_scale", scale)]
        if datatype.name == "BIPOLAR":
            node = helper.make_node("BipolarQuant", [value.name, parameters[0][0]], [quantized], name=quantized,
                                    domain=QONNX_DOMAINS[0])
        else:
            parameters += [(f"{quantized}_zero", 0.0), (f"{quantized}_bits", float(datatype.bitwidth()))]
            narrow = int(datatype.signed() and datatype.min() == -datatype.max())
            node = helper.make_node("Quant", [value.name, *(name for name, _ in parameters)], [quantized],
                                    name=quantized, domain=QONNX_DOMAINS[0], signed=int(datatype.signed()),
                                    narrow=narrow, rounding_mode="ROUND")
        graph.initializer.extend(numpy_helper.from_array(np.array(v, dtype=np.float32), name) for name, v in parameters)
        graph.node.insert(position, node)
        typed = True
    return typed
