"""ONNX BatchNormalization (inference) -> IR Affine, only where that is provably exact.

A BatchNormalization with float parameters is not fixed point. qonnx runs it through
onnxruntime, which folds it per channel in float32,
`scale = gamma * (1 / sqrt(var + epsilon))`, `shift = beta - mean * scale`, and computes
`x * scale + shift` in float32. fxhls imports it as the exact `Affine(x, scale, shift)`
only when every one of those float32 steps is exact, so the result does not depend on
how the folding is evaluated (fused multiply-add or not, vectorised square root or not)
and equals what qonnx computes:

- `var + epsilon` (one float32 addition) is a power of four: its square root and
  reciprocal are then exact;
- `gamma * 1/sqrt(var + epsilon)`, `mean * scale` and `beta - mean * scale` are exact in float32;
- the input has a fixed-point type and the Affine's exact result type is at most 24 bits
  wide, so float32 computes `x * scale + shift` without rounding.

Anything else is refused: quantize the scale and shift instead (Brevitas:
`BatchNorm2dToQuantScaleBias` with fixed-point weight and bias quantizers, which exports
Mul and Add with Quant'ed constants, imported exactly).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from fxhls.fixed import exact_type, result_type
from fxhls.ir import Node

from .context import ImportContext, OnnxNode

_FLOAT32_SIGNIFICAND = 24
_ADVICE = ("quantize its scale and shift instead (Brevitas: BatchNorm2dToQuantScaleBias with fixed-point weight "
           "and bias quantizers)")


def batch_normalization(ctx: ImportContext, n: OnnxNode) -> None:
    x = ctx.operand(n.inputs[0], n)
    parameters = [ctx.constant(name) for name in n.inputs[1:5]]
    if any(p is None for p in parameters) or n.attrs.get("training_mode", 0) or len(n.outputs) > 1:
        raise n.refuse("only inference with constant parameters is supported")
    x_type, shape = ctx.tensors[x].type, ctx.tensors[x].shape
    if x_type is None:
        raise n.refuse(f"its input has no fixed-point type (not quantized); {_ADVICE}")
    gamma, beta, mean = ([Fraction(v) for v in p.tolist()] for p in parameters[:3])
    variance = parameters[3].astype(np.float32) + np.float32(n.attrs.get("epsilon", 1e-5))
    scale, shift = [], []
    for channel, (g, b, m, v) in enumerate(zip(gamma, beta, mean, variance.tolist())):
        inverse_root = _inverse_root_of_power_of_four(Fraction(v))
        steps = [g * inverse_root, m * g * inverse_root, b - m * g * inverse_root] if inverse_root else []
        if not steps or not all(_is_float32(step) for step in steps):
            raise n.refuse(f"channel {channel}: its float parameters fold to a scale and shift that float32 rounds "
                           f"(not fixed point); {_ADVICE}")
        scale.append(steps[0])
        shift.append(steps[2])
    view = (-1,) + (1,) * (len(shape) - 1)
    scale_name, shift_name = (_constant(ctx, n, stem, values, view) for stem, values in (("scale", scale),
                                                                                        ("shift", shift)))
    result = result_type("add", result_type("mul", x_type, ctx.tensors[scale_name].type),
                         ctx.tensors[shift_name].type)
    if result.width > _FLOAT32_SIGNIFICAND:
        raise n.refuse(f"x * scale + shift needs {result.width} bits ({result}), more than float32 computes exactly; "
                       f"{_ADVICE}")
    ctx.add(Node("Affine", n.name, [x, scale_name, shift_name], n.outputs[:1]), n)


def _inverse_root_of_power_of_four(value: Fraction) -> Fraction | None:
    """1/sqrt(value) when value is 4**k, else None."""
    numerator, denominator = value.numerator, value.denominator
    if numerator <= 0 or numerator & (numerator - 1) or denominator & (denominator - 1):
        return None
    exponent = numerator.bit_length() - denominator.bit_length()
    return Fraction(2) ** (-exponent // 2) if exponent % 2 == 0 else None


def _is_float32(value: Fraction) -> bool:
    return Fraction(float(np.float32(float(value)))) == value


def _constant(ctx: ImportContext, n: OnnxNode, stem: str, values: list[Fraction], view: tuple[int, ...]) -> str:
    data = np.array([float(v) for v in values], dtype=np.float64).reshape(view)
    return ctx.add_constant(f"{n.name}_{stem}", data, exact_type(data))


CONVERTERS = {"BatchNormalization": batch_normalization}
