"""The QONNX form of an exported model, for qonnx's executor, FINN and hls4ml.

Every fxhls `Quantize` whose type QONNX can express becomes a QONNX `Quant` at the
power-of-two scale 2^-F (zero point 0, W bits): the overflow must saturate (AP_SAT, or
AP_SAT_SYM as narrow=1 when signed) and the rounding be one qonnx computes as ap_fixed
does (AP_RND_CONV as ROUND, AP_TRN as FLOOR, AP_TRN_ZERO as DOWN, AP_RND_ZERO as
HALF_DOWN); qonnx clamps before it rounds, which for integer bounds is the same code.
A 1-bit signed type is not expressible (qonnx makes it bipolar). A quantized weight
already on its type's grid casts to itself under any modes, so its modes do not matter.
`Sign` becomes `BipolarQuant` (+1 at 0); an average over a power-of-two window, the
standard AveragePool or GlobalAveragePool. Anything else (AP_WRAP or AP_RND on an
activation, a narrowed accumulator, an average by another window) is refused in one
line: fxhls's importer reads a QONNX file through qonnx, which knows no fxhls op, so a
mixed file would be read by nothing. So is an activation table (QSigmoid, QTanh, ...):
QONNX's reading of Sigmoid -> Quant is a float32 function, then a rounding, which can
differ from the table's one rounding of the float64 function. K-hot and binary facts on
weights are not carried: the values are the same, and `fxhls build` then treats them as plain weights. qonnx's
executor computes in float32 (its Quant writes float32 whatever it reads), so a model
with a tensor float32 does not hold exactly (a wide BatchNorm product) is refused too.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from fxhls.fixed import FixedType
from fxhls.fixed.functions import FUNCTIONS
from fxhls.ir.ops.quantize import node_type

from .export_functions import DOMAIN

QONNX_DOMAIN = "qonnx.custom_op.general"
_ROUNDING = {"AP_RND_CONV": "ROUND", "AP_TRN": "FLOOR", "AP_TRN_ZERO": "DOWN", "AP_RND_ZERO": "HALF_DOWN"}


def as_qonnx(proto: onnx.ModelProto) -> onnx.ModelProto:
    """`proto` (an fxhls export) in QONNX, or a one-line ValueError naming the first node
    QONNX cannot express."""
    computed = [n.output[0] for n in proto.graph.node if n.op_type != "Cast"]
    doubles = {v.name for v in [*proto.graph.value_info, *proto.graph.input, *proto.graph.output]
               if v.type.tensor_type.elem_type == TensorProto.DOUBLE}
    wide = [name for name in computed if name in doubles]
    constants = {init.name: numpy_helper.to_array(init) for init in proto.graph.initializer}
    for node in proto.graph.node:
        if node.domain == "" and node.op_type in FUNCTIONS:
            raise _refusal(node, f"is a {node.op_type} table (the float64 function quantized once; qonnx's "
                                 f"executor rounds the function to float32 first, with onnxruntime's "
                                 f"approximation, which can change a code)")
        if node.domain != DOMAIN:
            continue
        if node.op_type == "Quantize":
            t = _on_grid(_node_type(node), constants.get(node.input[0]))
            if not expressible(t):
                raise _refusal(node, f"casts to {t}")
            _become(proto, node, "Quant", QONNX_DOMAIN, _quant_inputs(proto, node, t), signed=int(t.signed),
                    narrow=int(t.overflow == "AP_SAT_SYM" and t.signed), rounding_mode=_ROUNDING[t.rounding])
        elif node.op_type == "Sign":
            _become(proto, node, "BipolarQuant", QONNX_DOMAIN, [_constant(proto, f"{node.name}.scale", 1.0)])
        elif node.op_type in ("AveragePool", "GlobalAveragePool") and _window_is_power_of_two(node, proto):
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute if a.name != "reciprocal_type"}
            _become(proto, node, node.op_type, "", [], **attrs)
        else:
            raise _refusal(node, "computes what no standard op or QONNX quantizer does")
    if wide:  # after the ops QONNX lacks (fxhls's Softmax computes in float64), which say more
        raise ValueError(f"export_onnx(qonnx=True): tensor {wide[0]!r} has a type wider than float32 holds "
                         f"exactly, and qonnx's executor computes in float32; export without qonnx=True")
    del proto.functions[:]
    proto.opset_import.append(helper.make_opsetid(QONNX_DOMAIN, 1))
    return proto


def _refusal(node, what: str) -> ValueError:
    return ValueError(f"export_onnx(qonnx=True): node {node.name!r} {what}, which QONNX cannot express; "
                      f"export without qonnx=True (fxhls's own ops, which onnxruntime runs too)")


def _node_type(node) -> FixedType:
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return node_type({k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()})


def _on_grid(t: FixedType, values: np.ndarray | None) -> FixedType:
    """A constant already on `t`'s grid and in its range (quantized weights) casts to itself
    under any modes: then the modes QONNX has."""
    if values is None:
        return t
    codes = np.ldexp(values, t.frac_bits)
    if np.array_equal(codes, np.round(codes)) and codes.min() >= t.min_code and codes.max() <= t.max_code:
        return t.with_modes("AP_RND_CONV", "AP_SAT")
    return t


def _window_is_power_of_two(node, proto) -> bool:
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == "AveragePool":
        count = int(np.prod(attrs["kernel_shape"]))
    else:
        shapes = {v.name: v.type.tensor_type.shape.dim for v in proto.graph.value_info}
        count = int(np.prod([d.dim_value for d in shapes[node.input[0]][2:]]))
    return count & (count - 1) == 0


def expressible(t: FixedType) -> bool:
    """Whether a QONNX Quant at a power-of-two scale computes exactly the cast to `t`."""
    return t.rounding in _ROUNDING and t.overflow in ("AP_SAT", "AP_SAT_SYM") and (t.width > 1 or not t.signed)


def _quant_inputs(proto, node, t: FixedType) -> list[str]:
    return [_constant(proto, f"{node.name}.scale", 2.0**-t.frac_bits),
            _constant(proto, f"{node.name}.zeropt", 0.0),
            _constant(proto, f"{node.name}.bitwidth", float(t.width))]


def _become(proto, node, op: str, domain: str, extra_inputs: list[str], **attrs) -> None:
    node.op_type, node.domain, node.overload = op, domain, ""
    del node.attribute[:]
    node.attribute.extend(helper.make_attribute(k, v) for k, v in attrs.items())
    node.input.extend(extra_inputs)


def _constant(proto, name: str, value: float) -> str:
    proto.graph.initializer.append(numpy_helper.from_array(np.array(value, dtype=np.float32), name))
    return name
