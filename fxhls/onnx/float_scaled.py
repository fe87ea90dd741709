"""Float-scaled QONNX -> IR: quantizers with any float scale, and the float work between them.

A Quant whose scale is not one power of two (or differs between channels), or whose
zero point is not 0, stores integer codes q with the value s * (q - z). In the IR such a
tensor holds the codes (an integer type) and `facts` "scale" and "zero_point", float32
arrays that broadcast against its data (a constant) or a sample (an activation).

- On a constant (a weight), the codes are computed as qonnx computes them.
- Gemm, MatMul (on a vector) and Conv of codes are exact integer work; the float value
  after them, fl32(s_x * s_w * acc + bias) (see `fxhls.fixed.float32`), is a *float chain*
  on the accumulator, which element-wise ops with a constant (Mul, Add, Sub, Div, Relu)
  extend without adding IR nodes, as does a BatchNormalization that is not an exact
  Affine (`batchnorm`), folded and computed as onnxruntime does (`float_ops`).
- A Quant, BipolarQuant or Trunc on a float chain is a MultiThreshold or a MulShift on
  the chain's exact source, whichever costs less (`fxhls.ir.requantize_choice`), each
  equal to the float32 chain on every value the source can take; where its zero point is one integer z, the tensor holds
  q - z (its value is then s times it). This module converts the quantizers.
- The graph input's float work before its first Quant, and that Quant, are one
  HostQuantize; a float chain (or codes) that is a graph output is a HostFloat: both
  run on the host, in float32 as ONNX computes them.

The float value of a MatMul or Conv is its exact value rounded once to float32 (the
ONNX op's one rounding). qonnx's executor sums float32 products in float32 instead, so
where the dequantized operands or their sums are not exact in float32 it can differ
from this in the last bits; where they are exact (scales with few significant bits) the
two are equal. Refused in one line: codes with a fractional or per-channel zero point
into a MatMul or Conv, or a per-channel activation scale that varies within the input
channels one output reads (a depthwise or grouped Conv takes a scale per group), values
of two scales added, a
scale that is not positive, a requantization to more bits than thresholds take
(`requantize_choice.MAX_THRESHOLD_BITS`) where no multiply-and-shift equals it, and ops
other than these on a float value.
"""

from __future__ import annotations

import math

import numpy as np

from fxhls.fixed import FixedType
from fxhls.fixed.float32 import ROUNDING_MODES, code_range, quant_codes
from fxhls.ir import Node
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.requantize_choice import choose_requantization

from . import float_average, float_values as values, qonnx_ops
from .context import ImportContext, OnnxNode


def _float_scaled_quant(ctx: ImportContext, n: OnnxNode) -> bool:
    """Not the ap_fixed cast `qonnx_ops.quant` imports: a float scale or input, a zero
    point, or a rounding or narrow range no ap_fixed mode has (that thresholds express)."""
    x, scale, zero_point = n.inputs[:3]
    if x in ctx.chains or values.has_scale(ctx, x):
        return True
    mode, signed = n.attrs.get("rounding_mode", "ROUND").upper(), bool(n.attrs.get("signed", 1))
    if mode in qonnx_ops.REFUSED_ROUNDING or (n.attrs.get("narrow", 0) and not signed):
        return True
    zeros = qonnx_ops.parameter(ctx, n, zero_point, "zero point")
    return not _one_power_of_two(qonnx_ops.parameter(ctx, n, scale, "scale")) or bool((zeros != 0).any())


def _float_scaled_bipolar(ctx: ImportContext, n: OnnxNode) -> bool:
    x, scale = n.inputs[:2]
    scales = qonnx_ops.parameter(ctx, n, scale, "scale")
    return x in ctx.chains or values.has_scale(ctx, x) or not _one_power_of_two(scales)


def _one_power_of_two(values: np.ndarray) -> bool:
    distinct = np.unique(values)
    return distinct.size == 1 and math.frexp(distinct.item())[0] == 0.5


def _quant_attrs(ctx: ImportContext, n: OnnxNode, scale: str, zero_point: str, bit_width: str) -> dict:
    """A quant (`fxhls.fixed.float32`) of the node's attributes and these parameter inputs."""
    mode = n.attrs.get("rounding_mode", "ROUND").upper()
    if mode not in ROUNDING_MODES:
        raise n.refuse(f"unknown rounding_mode {mode!r}; supported: {', '.join(ROUNDING_MODES)}")
    return {"scale": _positive_scale(ctx, n, scale),
            "zero": qonnx_ops.parameter(ctx, n, zero_point, "zero point").astype(np.float32),
            "bits": qonnx_ops.bit_width_of(ctx, n, bit_width), "signed": bool(n.attrs.get("signed", 1)),
            "narrow": bool(n.attrs.get("narrow", 0)), "rounding": mode}


def _trunc(ctx: ImportContext, n: OnnxNode) -> None:
    """qonnx's Trunc (opset 2) on a float-scaled value: a quantizer like Quant (`fxhls.fixed.float32`)."""
    if ctx.opsets.get(n.domain, 1) < 2:
        raise n.refuse(f"Trunc of opset {ctx.opsets.get(n.domain, 1)} (before output_scale) is not supported; "
                       f"opset 2 is")
    _, scale, zero_point, _, output_scale, output_bit_width = n.inputs
    input_scale = _positive_scale(ctx, n, scale)
    input_zero = qonnx_ops.parameter(ctx, n, zero_point, "zero point").astype(np.float32)
    output = _positive_scale(ctx, n, output_scale)
    shift = np.float32(2) ** np.round(np.log2(output / input_scale))
    quant = {**_quant_attrs(ctx, n, output_scale, zero_point, output_bit_width), "zero": input_zero / shift,
             "input_scale": input_scale, "input_zero": input_zero}
    chain = ctx.chains.get(n.inputs[0])
    if chain is not None and "average" in chain:  # Brevitas's TruncAvgPool over N values, N no power of two
        if input_scale.size != 1 or input_zero.size != 1:
            raise n.refuse("truncates an average with a per-channel input scale or zero point; one value each is "
                           "supported")
        chain = float_average.trunc_chain(n, chain, float(input_scale.item()), float(input_zero.item()))
    quantize(ctx, n, quant, chain)


def _positive_scale(ctx: ImportContext, n: OnnxNode, name: str) -> np.ndarray:
    scales = qonnx_ops.parameter(ctx, n, name, "scale").astype(np.float32)
    if not (np.isfinite(scales) & (scales > 0)).all():
        raise n.refuse(f"its scale has values that are not positive finite numbers ({scales.min()!r} to "
                       f"{scales.max()!r}); only positive scales are supported")
    return scales


def _code_type(quant: dict, offset: int = 0) -> FixedType:
    """The integer type that holds the codes less `offset` (bipolar codes -1 and +1 need 2 bits)."""
    low, high = (limit - offset for limit in code_range(quant["bits"], quant["signed"], quant["narrow"]))
    signed = low < 0
    bits = max(high.bit_length(), (-low - 1).bit_length() if signed else 0, 1) + int(signed)
    return FixedType(bits, bits, signed)


def _quant(ctx: ImportContext, n: OnnxNode) -> None:
    quantize(ctx, n, _quant_attrs(ctx, n, *n.inputs[1:4]))


def _bipolar_quant(ctx: ImportContext, n: OnnxNode) -> None:
    scale = qonnx_ops.parameter(ctx, n, n.inputs[1], "scale").astype(np.float32)
    quantize(ctx, n, {"scale": scale, "zero": np.zeros(1, np.float32), "bits": 1, "signed": True, "narrow": False,
                       "rounding": "SIGN"})


def quantize(ctx: ImportContext, n: OnnxNode, quant: dict, chain: dict | None = None) -> None:
    """The codes of `quant` on input 0 of `n` (or on `chain`, what it stands for): a
    constant, a HostQuantize or a MultiThreshold."""
    x, out = n.inputs[0], n.outputs[0]
    if chain is None and ctx.is_static(x) and x not in ctx.chains:
        data = values.float32_of_static(ctx, x, n)
        codes = quant_codes(data, quant, channel_axis=0)
        name = ctx.add_constant(out, codes.astype(np.float64), _code_type(quant))
        ctx.tensors[name].facts.update(scale=quant["scale"], zero_point=quant["zero"])
        ctx.alias(out, name)
        return
    chain = chain or values.chain_of(ctx, x, n)
    source = ctx.tensors[chain["source"]]
    shape = values.shape_of(ctx, chain)
    per_sample = {**quant, **{key: values.channel_vector(quant[key], shape, 0, key.replace("_", " "), n)
                              for key in ("scale", "zero", "input_scale", "input_zero") if key in quant},
                  "node": n.name}
    # One integer zero point z: the tensor holds q - z, so that the value is s * (its code).
    offset = int(per_sample["zero"][0]) if len(per_sample["zero"]) == 1 and per_sample["zero"][0].is_integer() \
        else 0
    code_type = _code_type(quant, offset)
    if source.type is None:
        attrs = {"chain": chain["chain"], "quant": per_sample, "offset": offset}
        fixed = _fixed_point_codes(per_sample) if "dense" in chain["chain"] or "conv" in chain["chain"] else None
        ctx.add(Node("HostQuantize", n.name, [source.name], [out],
                     {**attrs, **({"unit": fixed.lsb} if fixed else {}), **type_attrs(fixed or code_type)}), n)
        if fixed:
            return
    else:
        try:
            chosen = choose_requantization(chain["chain"], per_sample, source.type, source.shape[0])
        except ValueError as err:
            raise n.refuse(str(err)) from None
        attrs = {"requantization": chosen.other, **type_attrs(code_type)}
        if chosen.op == "MulShift":
            found = chosen.mul_shift
            if offset and found.rounding != "AP_TRN":  # a tie's direction depends on the code's sign or parity
                raise n.refuse(f"a multiply-and-shift rounding with {found.rounding} cannot output codes less the "
                               f"zero point {offset}; supported: a zero point of 0, or the floor (AP_TRN)")
            ctx.add(Node("MulShift", n.name, [source.name], [out],
                         {"multiplier": found.multiplier, "shift": found.shift,
                          "bias": [b - (offset << found.shift) for b in found.bias],
                          "shift_rounding": found.rounding, "low": [v - offset for v in found.low],
                          "high": [v - offset for v in found.high], "frac_bits": source.type.frac_bits,
                          **({"exceptions": [[list(r) for r in e] for e in found.exceptions]}
                             if found.exception_count else {}), **attrs}), n)
        else:
            levels, direction, base = chosen.thresholds
            constant = ctx.add_constant(f"{n.name}_thresholds", levels, _threshold_type(source.type))
            ctx.add(Node("MultiThreshold", n.name, [source.name, constant], [out],
                         {"direction": direction, "base": base - offset, **attrs}), n)
    view = (-1, *[1] * (len(ctx.tensors[out].shape) - 1))
    zero = np.array(per_sample["zero"], dtype=np.float32) - np.float32(offset)
    ctx.tensors[out].facts.update(scale=np.array(per_sample["scale"], dtype=np.float32).reshape(view),
                                  zero_point=zero.reshape(view))


def _fixed_point_codes(quant: dict) -> FixedType | None:
    """The fixed-point type whose values are the quantizer's values s * q, for one
    power-of-two scale s, zero point 0 and codes of at least 2 values a bit (not bipolar);
    else None. A host head with a first layer sends these (a QKeras model's first
    quantized_relu), so that the layers after it are fixed-point work as with --input-type."""
    scales, zeros = np.unique(quant["scale"]), np.unique(quant["zero"])
    if scales.size != 1 or zeros.tolist() != [0.0] or math.frexp(scales.item())[0] != 0.5 or \
            (quant["bits"] == 1 and quant["signed"]):
        return None
    exponent = math.frexp(scales.item())[1] - 1
    return FixedType(quant["bits"], quant["bits"] + exponent, quant["signed"])


def _threshold_type(source: FixedType) -> FixedType:
    """The source's grid, one bit wider: a threshold never reached lies one step beyond its range."""
    return FixedType(source.width + 1, source.int_bits + 1, True)


def _float_scaled_trunc(ctx: ImportContext, n: OnnxNode) -> bool:
    x, scale, zero_point = n.inputs[:3]
    zeros = qonnx_ops.parameter(ctx, n, zero_point, "zero point")
    scales = [qonnx_ops.parameter(ctx, n, name, what)
              for name, what in ((scale, "scale"), (n.inputs[4], "output scale"))]
    return x in ctx.chains or values.has_scale(ctx, x) or not all(map(_one_power_of_two, scales)) or \
        bool((zeros != 0).any())


CONVERTERS = {"Quant": values.dispatch(_float_scaled_quant, _quant, qonnx_ops.quant),
              "Trunc": values.dispatch(_float_scaled_trunc, _trunc, qonnx_ops.trunc),
              "BipolarQuant": values.dispatch(_float_scaled_bipolar, _bipolar_quant, qonnx_ops.bipolar_quant)}
