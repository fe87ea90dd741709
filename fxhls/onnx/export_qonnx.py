"""The QONNX form of an exported model, for qonnx's executor, FINN and hls4ml.

Every fxhls `Quantize` whose type QONNX can express becomes a QONNX `Quant` at the
power-of-two scale 2^-F (zero point 0, W bits): the overflow must saturate (AP_SAT, or
AP_SAT_SYM as narrow=1 when signed), the rounding be one qonnx computes as ap_fixed
does (AP_RND_CONV as ROUND, AP_TRN as FLOOR, AP_TRN_ZERO as DOWN, AP_RND_ZERO as
HALF_DOWN; qonnx clamps before it rounds, which for integer bounds is the same code), and
float32 hold the values (qonnx's Quant writes float32 whatever it reads, so a Quant takes
in the Cast after a float64 Quantize). A 1-bit signed type is not expressible (qonnx
makes it bipolar). A quantized weight already on its type's grid casts to itself under
any modes, so its modes do not matter; its K-hot or binary fact stays as an attribute.
`Sign` becomes `BipolarQuant` (+1 at 0); an average over a power-of-two window, the
standard AveragePool or GlobalAveragePool. A quantizer keeps its fxhls function body (in
the QONNX domain), so onnxruntime runs the file too.

The rest stays in the fxhls domain (AP_WRAP or AP_RND on an activation, a narrowed
accumulator, an average by another window, fxhls's Softmax), and so does the cast after
an activation table (QSigmoid, QTanh, ...): QONNX's reading of Sigmoid -> Quant is a
float32 function, then a rounding, which can differ from the table's one rounding of the
float64 function. With `strict`, any of these is refused in one line, and so is a Conv
or an average whose tensor needs float64 (onnxruntime, which qonnx's executor runs
standard ops in, has no float64 kernel for them).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from fxhls.fixed import FixedType
from fxhls.fixed.formats import fits_exactly
from fxhls.fixed.functions import FUNCTIONS
from fxhls.ir.ops.quantize import node_type

from .export_functions import DOMAIN

QONNX_DOMAIN = "qonnx.custom_op.general"
FACTS = ("khot", "binary")  # kept on a weight's Quant as attributes qonnx ignores and fxhls reads
_ROUNDING = {"AP_RND_CONV": "ROUND", "AP_TRN": "FLOOR", "AP_TRN_ZERO": "DOWN", "AP_RND_ZERO": "HALF_DOWN"}


def as_qonnx(proto: onnx.ModelProto, strict: bool = False) -> onnx.ModelProto:
    """`proto` (an fxhls export, made runnable) with every node QONNX expresses in QONNX, the
    others left in the fxhls domain; `strict`: a one-line ValueError naming the first node
    QONNX cannot express, or the first tensor qonnx's executor cannot compute exactly."""
    constants = {init.name: numpy_helper.to_array(init) for init in proto.graph.initializer}
    functions = {(f.name, f.overload): f for f in proto.functions}
    casts = {n.input[0]: n for n in proto.graph.node if n.op_type == "Cast" and not n.domain}
    tables = {n.output[0] for n in proto.graph.node if n.domain == "" and n.op_type in FUNCTIONS}
    dropped = []
    for node in proto.graph.node:
        if node.domain == "" and node.op_type in FUNCTIONS and strict:
            raise _refusal(node, f"is a {node.op_type} table (the float64 function quantized once; qonnx's "
                                 f"executor rounds the function to float32 first, with onnxruntime's "
                                 f"approximation, which can change a code)")
        if node.domain != DOMAIN:
            continue
        body = functions.get((node.op_type, node.overload))
        if node.op_type == "Quantize":
            t = _on_grid(_node_type(node), constants.get(node.input[0]))
            if not strict and node.input[0] in tables:
                continue  # fxhls reads a function -> Quantize as one table, QONNX as float32 steps
            if not expressible(t):
                if strict:
                    raise _refusal(node, f"casts to {t}")
                continue
            facts = {a.name: helper.get_attribute_value(a) for a in node.attribute if a.name in FACTS}
            cast = _cast_after(node, casts)
            if cast is not None:  # qonnx's Quant writes float32 whatever it reads: it takes the Cast in
                node.output[0] = cast.output[0]
                dropped.append(cast)
            _become(proto, node, "Quant", _quant_inputs(proto, node, t), body, cast, signed=int(t.signed),
                    narrow=int(t.overflow == "AP_SAT_SYM" and t.signed), rounding_mode=_ROUNDING[t.rounding],
                    **facts)
        elif node.op_type == "Sign":
            _become(proto, node, "BipolarQuant", [_constant(proto, f"{node.name}.scale", 1.0)], body, None)
        elif node.op_type in ("AveragePool", "GlobalAveragePool") and _window_is_power_of_two(node, proto):
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute if a.name != "reciprocal_type"}
            _become(proto, node, node.op_type, [], None, None, domain="", **attrs)
        elif strict:
            raise _refusal(node, "computes what no standard op or QONNX quantizer does")
    for cast in dropped:
        proto.graph.node.remove(cast)
    gone = {cast.input[0] for cast in dropped}
    kept_values = [v for v in proto.graph.value_info if v.name not in gone]
    del proto.graph.value_info[:]
    proto.graph.value_info.extend(kept_values)
    if strict:
        _require_float32_executable(proto)
    used = {(n.domain, n.op_type, n.overload) for n in proto.graph.node}
    kept = [f for f in proto.functions if (f.domain, f.name, f.overload) in used]
    del proto.functions[:]
    proto.functions.extend(kept)
    if any(n.domain == QONNX_DOMAIN for n in proto.graph.node):
        proto.opset_import.append(helper.make_opsetid(QONNX_DOMAIN, 1))
    if not any(n.domain == DOMAIN for n in proto.graph.node):
        kept_opsets = [o for o in proto.opset_import if o.domain != DOMAIN]
        del proto.opset_import[:]
        proto.opset_import.extend(kept_opsets)
    return proto


def _cast_after(node, casts: dict):
    """The Cast `made_runnable` put after a Quantize computing in float64 (its output's float
    type is float32), or None."""
    cast = casts.get(node.output[0])
    return cast if cast is not None and cast.name == f"{node.name}/Cast" else None


# qonnx's executor runs standard ops in onnxruntime, which has no float64 kernel for these
_FLOAT32_ONLY = ("Conv", "AveragePool", "GlobalAveragePool")


def _require_float32_executable(proto) -> None:
    doubles = {v.name for v in [*proto.graph.value_info, *proto.graph.input, *proto.graph.output]
               if v.type.tensor_type.elem_type == TensorProto.DOUBLE}
    for node in proto.graph.node:
        if node.domain == "" and node.op_type in _FLOAT32_ONLY and node.output[0] in doubles:
            raise ValueError(f"export_onnx(qonnx=True): node {node.name!r} computes a tensor wider than float32 "
                             f"holds exactly, and onnxruntime (qonnx's executor runs standard ops in it) has no "
                             f"float64 {node.op_type}; export without qonnx=True")


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
    """Whether a QONNX Quant at a power-of-two scale computes exactly the cast to `t` (its
    values held by float32, which qonnx's Quant writes)."""
    return (t.rounding in _ROUNDING and t.overflow in ("AP_SAT", "AP_SAT_SYM") and (t.width > 1 or not t.signed)
            and fits_exactly(t, np.float32))


def _quant_inputs(proto, node, t: FixedType) -> list[str]:
    return [_constant(proto, f"{node.name}.scale", 2.0**-t.frac_bits),
            _constant(proto, f"{node.name}.zeropt", 0.0),
            _constant(proto, f"{node.name}.bitwidth", float(t.width))]


def _become(proto, node, op: str, extra_inputs: list[str], body, cast, domain: str = QONNX_DOMAIN,
            **attrs) -> None:
    """`node` as `op` of `domain`; a QONNX quantizer keeps its fxhls function `body` (moved
    to the QONNX domain, reading the extra inputs it does not need, ending with the `cast`
    it took in), so onnxruntime runs it."""
    node.op_type, node.domain = op, domain
    del node.attribute[:]
    node.attribute.extend(helper.make_attribute(k, v) for k, v in attrs.items())
    node.input.extend(extra_inputs)
    if body is None or domain != QONNX_DOMAIN:
        node.overload = ""
        return
    function = onnx.FunctionProto()
    function.CopyFrom(body)
    function.domain, function.name = domain, op
    function.input.extend(f"unused_{k}" for k in range(len(extra_inputs)))
    if cast is not None:
        to = helper.get_attribute_value(cast.attribute[0])
        (last,) = [n for n in function.node if "y" in n.output]
        last.output[:] = ["y_before_cast"]
        function.node.append(helper.make_node("Cast", ["y_before_cast"], ["y"], to=to))
        function.overload += f"_to_{onnx.helper.tensor_dtype_to_np_dtype(to).name}"
    node.overload = function.overload
    if not any((f.domain, f.name, f.overload) == (domain, op, function.overload) for f in proto.functions):
        proto.functions.append(function)


def _constant(proto, name: str, value: float) -> str:
    proto.graph.initializer.append(numpy_helper.from_array(np.array(value, dtype=np.float32), name))
    return name
