"""An `==` reference for float-scaled QONNX models whose MatMul or Gemm sums do not fit
float32: qonnx's executor, node by node, except that each MatMul and Gemm computes the
exact sum of its operands' products (Python fractions), plus its bias, and rounds it once
to float32, ties to even: one rounding for the op, where onnxruntime sums in float32 in its
own order. An operand that a Quant or BipolarQuant computes is taken as the exact value
that quantizer defines, s * (q - z), its code q read back from qonnx's output (y / s
rounded: the output is within half an ulp of s * (q - z)), not that value rounded to
float32; any other operand as its float32 values. This is the semantics fxhls computes
(README, "Float-scaled QONNX"); the rounding here is done with integers (Python's `round`
of a Fraction is half to even), independently of fxhls's own.
"""

from __future__ import annotations

from fractions import Fraction
from unittest import mock

import numpy as np
import qonnx.core.onnx_exec as onnx_exec
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.util.cleanup import cleanup_model


def nearest_float32(value: Fraction) -> np.float32:
    """The float32 nearest to `value` (a normal float32 or 0), ties to the even significand."""
    if value == 0:
        return np.float32(0)
    exponent = value.numerator.bit_length() - value.denominator.bit_length()
    while abs(value) < Fraction(2) ** exponent:
        exponent -= 1
    while abs(value) >= Fraction(2) ** (exponent + 1):
        exponent += 1
    unit = Fraction(2) ** (exponent - 23)  # 24 significant bits
    return np.float32(float(round(value / unit) * unit))


def _fractions(values: np.ndarray) -> np.ndarray:
    return np.vectorize(Fraction, otypes=[object])(np.asarray(values, dtype=np.float64))


def _exact_operand(name: str, context: dict, producers: dict) -> np.ndarray:
    """The exact values of operand `name`: s * (q - z) where a quantizer computes it."""
    y, quantizer = context[name], producers.get(name)
    if quantizer is None or quantizer.op_type not in ("Quant", "BipolarQuant"):
        return _fractions(y.astype(np.float32))
    scale = np.broadcast_to(context[quantizer.input[1]], y.shape).astype(np.float64)
    zero = np.broadcast_to(context[quantizer.input[2]] if quantizer.op_type == "Quant" else 0.0, y.shape)
    codes = np.rint(y.astype(np.float64) / scale + zero)
    return _fractions(scale) * _fractions(codes - zero)


def _exact_dense(node, context: dict, producers: dict) -> None:
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    a, b = (_exact_operand(name, context, producers) for name in node.input[:2])
    if node.op_type == "Gemm":
        a = a.T if attrs.get("transA", 0) else a
        b = b.T if attrs.get("transB", 0) else b
        if attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
            raise ValueError("a Gemm with alpha or beta is not covered by this reference")
    exact = a @ b
    if len(node.input) > 2 and node.input[2]:
        exact = exact + np.broadcast_to(_exact_operand(node.input[2], context, producers), exact.shape)
    context[node.output[0]] = np.vectorize(nearest_float32, otypes=[np.float32])(exact)


def per_op_outputs(model_path, x: np.ndarray) -> np.ndarray:
    """The model's (one) output for the batch `x`, as described in the module docstring."""
    wrapper = cleanup_model(ModelWrapper(str(model_path)))
    producers = {output: node for node in wrapper.graph.node for output in node.output}
    plain = onnx_exec.execute_node

    def execute_node(node, context, graph, *args, **kwargs):
        if node.op_type in ("MatMul", "Gemm") and context[node.input[0]].ndim == 2:
            _exact_dense(node, context, producers)
        else:
            plain(node, context, graph, *args, **kwargs)

    with mock.patch.object(onnx_exec, "execute_node", execute_node):
        return next(iter(onnx_exec.execute_onnx(wrapper, {wrapper.graph.input[0].name: x}).values()))
