"""Small fxhls models for the fuzz suite, built with onnx.helper (no torch), and the
mutations it applies to them: each says whether it keeps the model's meaning."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FEATURES, CLASSES = 6, 4


def _quantize(source: str, name: str, width: int, int_bits: int, signed: int = 1) -> onnx.NodeProto:
    return helper.make_node("Quantize", [source], [f"{name}:0"], name=name, domain="fxhls", width=width,
                            int_bits=int_bits, signed=signed, rounding="AP_RND_CONV", overflow="AP_SAT")


def tiny_mlp() -> onnx.ModelProto:
    """x (batch, 6) -> Quantize -> Gemm (quantized weight and bias) -> Quantize -> Relu -> Quantize."""
    rng = np.random.default_rng(0)
    nodes = [
        _quantize("x", "in_q", 8, 3),
        _quantize("w", "w_q", 6, 1),
        _quantize("b", "b_q", 8, 3),
        helper.make_node("Gemm", ["in_q:0", "w_q:0", "b_q:0"], ["fc:0"], name="fc", transB=1),
        _quantize("fc:0", "fc_q", 10, 5),
        helper.make_node("Relu", ["fc_q:0"], ["relu:0"], name="relu"),
        _quantize("relu:0", "out_q", 8, 5, signed=0),
    ]
    initializers = [numpy_helper.from_array(rng.normal(size=(CLASSES, FEATURES)).astype(np.float32), "w"),
                    numpy_helper.from_array(rng.normal(size=CLASSES).astype(np.float32), "b")]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", FEATURES])
    y = helper.make_tensor_value_info("out_q:0", TensorProto.FLOAT, ["n", CLASSES])
    graph = helper.make_graph(nodes, "tiny_mlp", [x], [y], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("fxhls", 1)])
    onnx.checker.check_model(model)
    return model


def copy(model: onnx.ModelProto) -> onnx.ModelProto:
    result = onnx.ModelProto()
    result.CopyFrom(model)
    return result


def tiny_mlp_reference(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """What `tiny_mlp` (its attributes and weights as `model` has them) computes, from
    fxhls.fixed.quantize and numpy alone: an oracle independent of the importer and the IR.
    A ValueError when a quantizer's attributes spell no type."""
    from fxhls.fixed import FixedType, quantize

    nodes = {node.name: node for node in model.graph.node}
    weights = {init.name: numpy_helper.to_array(init).astype(np.float64) for init in model.graph.initializer}

    def cast(values, name):
        attrs = {a.name: helper.get_attribute_value(a) for a in nodes[name].attribute}
        attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
        t = FixedType(attrs["width"], attrs["int_bits"], bool(attrs["signed"]), attrs["rounding"], attrs["overflow"])
        return quantize(values, t)

    weight, bias = cast(weights["w"], "w_q"), cast(weights["b"], "b_q")
    fc = cast(cast(np.asarray(x, dtype=np.float64), "in_q") @ weight.T + bias, "fc_q")
    return cast(np.maximum(fc, 0.0), "out_q")


def same_structure(model: onnx.ModelProto, reference: onnx.ModelProto) -> bool:
    """Whether `model` has the nodes, connections, inputs and outputs of `reference` (attributes
    and initializer values may differ): then `tiny_mlp_reference` describes it."""
    def wiring(m):
        return ([(n.name, n.op_type, n.domain, list(n.input), list(n.output),
                  [] if n.op_type == "Quantize" else [a.SerializeToString() for a in n.attribute])
                 for n in m.graph.node],
                [v.SerializeToString() for v in (*m.graph.input, *m.graph.output)],
                sorted((i.name, tuple(i.dims), i.data_type) for i in m.graph.initializer),
                [(o.domain, o.version) for o in m.opset_import], m.ir_version)
    return wiring(model) == wiring(reference)


QONNX = "qonnx.custom_op.general"
QONNX_SHAPE = (3, 4)


def qonnx_quant(bits=5.0, scale=0.125, zero=0.0, **attributes) -> onnx.ModelProto:
    """x (3, 4) -> QONNX Quant (scale, zero point, bit width as initializers) -> y."""
    attributes = {"signed": 1, "narrow": 0, "rounding_mode": "ROUND", **attributes}
    node = helper.make_node("Quant", ["x", "scale", "zero", "bits"], ["y"], name="q", domain=QONNX, **attributes)
    initializers = [numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)
                    for name, value in (("scale", scale), ("zero", zero), ("bits", bits))]
    graph = helper.make_graph([node], "quant", [helper.make_tensor_value_info("x", TensorProto.FLOAT, QONNX_SHAPE)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, QONNX_SHAPE)], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(QONNX, 2)])


def qonnx_reference(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """qonnx's own executor on `model` (after its cleanup): the reference for QONNX. The
    declared batch size becomes x's (fxhls takes any batch; qonnx the declared one)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    model = copy(model)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if dims:
        dims[0].Clear()
        dims[0].dim_value = len(x)
    wrapper = cleanup_model(ModelWrapper(model.SerializeToString()))
    return next(iter(execute_onnx(wrapper, {wrapper.graph.input[0].name: x}).values()))


def qonnx_mlp() -> onnx.ModelProto:
    """x (3, 4) -> Quant -> MatMul (a Quant-ized weight) -> Quant -> Relu -> Quant, as Brevitas writes it."""
    rng = np.random.default_rng(1)

    def quant(source, name, bits, exponent, signed=1):
        inputs = [source, f"{name}_scale", f"{name}_zero", f"{name}_bits"]
        node = helper.make_node("Quant", inputs, [f"{name}:0"], name=name, domain=QONNX, signed=signed, narrow=0,
                                rounding_mode="ROUND")
        values = [(f"{name}_scale", 2.0 ** exponent), (f"{name}_zero", 0.0), (f"{name}_bits", float(bits))]
        return node, [numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in values]

    pieces = [quant("x", "in_q", 8, -4), quant("w", "w_q", 4, -2), quant("mm:0", "mm_q", 10, -5),
              quant("relu:0", "out_q", 8, -4, signed=0)]
    nodes = [pieces[0][0], pieces[1][0], helper.make_node("MatMul", ["in_q:0", "w_q:0"], ["mm:0"], name="mm"),
             pieces[2][0], helper.make_node("Relu", ["mm_q:0"], ["relu:0"], name="relu"), pieces[3][0]]
    initializers = [numpy_helper.from_array(rng.normal(size=(4, 3)).astype(np.float32), "w"),
                    *(init for _, inits in pieces for init in inits)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(QONNX_SHAPE))
    y = helper.make_tensor_value_info("out_q:0", TensorProto.FLOAT, [QONNX_SHAPE[0], 3])
    graph = helper.make_graph(nodes, "qonnx_mlp", [x], [y], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(QONNX, 2)])
