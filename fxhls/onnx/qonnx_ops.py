"""QONNX quantizers -> IR: Quant and Trunc become Quantize, BipolarQuant becomes Sign.

qonnx 1.0 executes Quant as `clamp(x / scale + zero_point, min_int, max_int)`, then
rounds with `rounding_mode`, then rescales (float32). With a power-of-two scale 2^-F
and a zero zero point that is exactly the `ap_fixed` cast to
`ap_[u]fixed<bit_width, bit_width - F>` (the bounds are integers, so clamping before
rounding is rounding before saturating), with these modes (checked against qonnx's
`quant` on values, ties and their neighbours included, in tests/test_qonnx_import.py):

- ROUND, HALF_EVEN -> AP_RND_CONV; FLOOR -> AP_TRN; DOWN (Brevitas: ROUND_TO_ZERO) ->
  AP_TRN_ZERO; HALF_DOWN -> AP_RND_ZERO.
- CEIL and UP (away from zero) have no `ap_fixed` mode; HALF_UP is computed by qonnx
  as floor(|x| + 0.5) in float32, which rounds 0.49999997 to 1, so no `ap_fixed` mode
  equals it: such a Quant is float-scaled (`float_scaled`), a Trunc is refused.
- Quant always saturates: AP_SAT, or AP_SAT_SYM when narrow and signed. Narrow and
  unsigned (largest code 2^b - 2) has no `ap_fixed` overflow mode: float-scaled.
- One scale per tensor: a per-channel scale is accepted when all its values are equal
  (different ones, any other scale and a non-zero zero point are float-scaled).

A signed 1-bit Quant is bipolar in qonnx, like BipolarQuant: +1 where x >= 0 (-0.0
included), else -1, times the scale (a power of two). On an activation that is IR Sign,
followed by a Mul when the scale is not 1; on a constant (a binary weight) the signs
times the scale become the constant, cast to the 2-bit type that holds them.

Trunc (the qonnx domain's opset 2, as Brevitas writes it) rounds x / scale to an
integer, then requantizes to `output_scale` and `output_bit_width` like Quant. Its input
must be known to be a multiple of `scale` (from its type), so the first rounding is the
identity and the whole is one cast.
"""

from __future__ import annotations

import math

import numpy as np

from fxhls.fixed import FixedType, exact_type
from fxhls.ir import OPS, Node
from fxhls.ir.ops.quantize import type_attrs

from .context import ImportContext, OnnxNode

DOMAIN = "qonnx.custom_op.general"

_ROUNDING = {"ROUND": "AP_RND_CONV", "HALF_EVEN": "AP_RND_CONV", "FLOOR": "AP_TRN", "DOWN": "AP_TRN_ZERO",
             "ROUND_TO_ZERO": "AP_TRN_ZERO", "HALF_DOWN": "AP_RND_ZERO"}
REFUSED_ROUNDING = {
    "CEIL": "rounds toward +inf, which no ap_fixed mode does",
    "UP": "rounds away from zero, which no ap_fixed mode does",
    "HALF_UP": "is computed by qonnx as floor(|x| + 0.5) in float32, which rounds some values below a tie up",
}


def quant(ctx: ImportContext, n: OnnxNode) -> None:
    x, scale, zero_point, bit_width = n.inputs
    exponent = _power_of_two(ctx, n, scale, "scale")
    _require_zero(ctx, n, zero_point)
    bits = bit_width_of(ctx, n, bit_width)
    signed = bool(n.attrs.get("signed", 1))
    if bits == 1 and signed:
        _bipolar(ctx, n, exponent)
        return
    t = _cast_type(n, bits, exponent, signed)
    facts = {k: n.attrs[k] for k in ("khot", "binary") if k in n.attrs}  # fxhls's export keeps them on weights
    ctx.add(Node("Quantize", n.name, [ctx.name(x)], n.outputs[:1], {**type_attrs(t), **facts}), n)


def bipolar_quant(ctx: ImportContext, n: OnnxNode) -> None:
    _bipolar(ctx, n, _power_of_two(ctx, n, n.inputs[1], "scale"))


def trunc(ctx: ImportContext, n: OnnxNode) -> None:
    if ctx.opsets.get(n.domain, 1) < 2:
        raise n.refuse(f"Trunc of opset {ctx.opsets.get(n.domain, 1)} (before output_scale) is not supported; "
                       f"opset 2 is")
    x, scale, zero_point, _, output_scale, output_bit_width = n.inputs
    input_exponent = _power_of_two(ctx, n, scale, "scale")
    _require_zero(ctx, n, zero_point)
    lsb = _lsb_exponent(ctx, x)
    if lsb is None or lsb < input_exponent:
        raise n.refuse(f"its input is not known to be a multiple of its scale 2^{input_exponent}, so its first "
                       f"rounding would not be exact")
    bits = bit_width_of(ctx, n, output_bit_width)
    exponent = _power_of_two(ctx, n, output_scale, "output scale")
    t = _cast_type(n, bits, exponent, bool(n.attrs.get("signed", 1)))
    ctx.add(Node("Quantize", n.name, [ctx.name(x)], n.outputs[:1], type_attrs(t)), n)


def _cast_type(n: OnnxNode, bits: int, exponent: int, signed: bool) -> FixedType:
    """The ap_fixed type of codes of `bits` bits times 2**exponent, with the node's modes."""
    mode = n.attrs.get("rounding_mode", "ROUND").upper()
    if mode in REFUSED_ROUNDING:
        raise n.refuse(f"rounding_mode {mode} {REFUSED_ROUNDING[mode]}; supported: {', '.join(_ROUNDING)}")
    if mode not in _ROUNDING:
        raise n.refuse(f"unknown rounding_mode {mode!r}; supported: {', '.join(_ROUNDING)}")
    narrow = bool(n.attrs.get("narrow", 0))
    if narrow and not signed:
        raise n.refuse("narrow=1 on an unsigned value (largest code 2^b - 2) has no ap_fixed overflow mode")
    return FixedType(bits, bits + exponent, signed, _ROUNDING[mode], "AP_SAT_SYM" if narrow else "AP_SAT")


def _bipolar(ctx: ImportContext, n: OnnxNode, exponent: int) -> None:
    x, out = n.inputs[0], n.outputs[0]
    scale = 2.0**exponent
    data = ctx.constant(x)
    if data is not None:
        signs = OPS["Sign"].execute(None, [data])[0]
        facts = {"binary": 1} if exponent == 0 else {}
        constant = ctx.add_constant(f"{ctx.name(x)}_bipolar", signs * scale)
        ctx.add(Node("Quantize", n.name, [constant], [out], {**type_attrs(FixedType(2, 2 + exponent)), **facts}), n)
    elif exponent == 0:
        ctx.add(Node("Sign", n.name, [ctx.name(x)], [out]), n)
    else:
        signs = ctx.fresh(f"{out}_signs")
        ctx.add(Node("Sign", n.name, [ctx.name(x)], [signs]), n)
        factor = np.array(scale)
        constant = ctx.add_constant(f"{n.name}_scale", factor, exact_type(factor))
        ctx.add(Node("Mul", ctx.node_name(f"{n.name}_scale"), [signs, constant], [out]), n)


def parameter(ctx: ImportContext, n: OnnxNode, name: str, what: str) -> np.ndarray:
    """The values of the quantizer parameter `name` (scale, zero point, bit width): a constant."""
    values = ctx.constant(name)
    if values is None:
        raise n.refuse(f"its {what} is computed at run time; only a constant {what} is supported")
    return values


def _power_of_two(ctx: ImportContext, n: OnnxNode, name: str, what: str) -> int:
    """k where every value of the constant `name` is 2**k."""
    distinct = np.unique(parameter(ctx, n, name, what))
    if distinct.size != 1:
        raise n.refuse(f"its {what} differs between channels ({distinct.size} values); one {what} per tensor "
                       f"is supported")
    mantissa, exponent = math.frexp(distinct.item())
    if mantissa != 0.5:
        raise n.refuse(f"its {what} {distinct.item()!r} is not a power of two: not fixed point")
    return exponent - 1


def _require_zero(ctx: ImportContext, n: OnnxNode, name: str) -> None:
    if bool((parameter(ctx, n, name, "zero point") != 0).any()):
        raise n.refuse("its zero point is not 0: not fixed point (only zero zero points are supported)")


MAX_BIT_WIDTH = 32


def bit_width_of(ctx: ImportContext, n: OnnxNode, name: str) -> int:
    bits = np.ravel(parameter(ctx, n, name, "bit width"))  # a scalar, as qonnx executes it
    if bits.size != 1 or not float(bits[0]).is_integer() or not 1 <= bits[0] <= MAX_BIT_WIDTH:  # inf, nan too
        raise n.refuse(f"its bit width {bits.tolist()} is not one integer from 1 to {MAX_BIT_WIDTH} (supported)")
    return int(bits[0])


def _lsb_exponent(ctx: ImportContext, name: str) -> int | None:
    """e such that every value of tensor `name` is a multiple of 2**e, where known: from
    its type, or for an exact average (power-of-two window), from its input's type."""
    tensor, producer = ctx.tensor(name), ctx.producer(name)
    if tensor.type is not None:
        return -tensor.type.frac_bits
    if producer is None or producer.op not in ("AveragePool", "GlobalAveragePool") or \
            "reciprocal_type" in producer.attrs:
        return None
    source = ctx.tensors[producer.inputs[0]]
    if source.type is None:
        return None
    window = producer.attrs.get("kernel_shape", source.shape[1:])
    return -source.type.frac_bits - int(math.log2(math.prod(window)))


CONVERTERS = {"Quant": quant, "BipolarQuant": bipolar_quant, "Trunc": trunc}
