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

In a float model typed at conversion (`float_types`), a BatchNormalization carries the
types of its constants as attributes (`scale_type`: the node's weight type, `shift_type`:
its bias type) and becomes `Affine(x, a, b)` with, per channel, a = gamma / sqrt(var + epsilon)
and b = beta - mean * a computed in float64 from the float32 parameters (constants derived
once, as hls4ml derives them), a quantized to `scale_type` and b to `shift_type`; the
product and the sum are exact and the output cast after it gives the layer's output type.

Anything else (and a BatchNormalization of a float-scaled value) is float work that
`float_scaled` imports: a float chain, x * scale + shift as onnxruntime computes it.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from fxhls.fixed import FixedType, exact_type, quantize, result_type
from fxhls.ir import Node

from .context import ImportContext, OnnxNode

_FLOAT32_SIGNIFICAND = 24
SCALE_ATTRIBUTE, SHIFT_ATTRIBUTE = "scale_type", "shift_type"


def batch_normalization(ctx: ImportContext, n: OnnxNode) -> None:
    """The Affine: typed in a float model (`is_typed`), else the exact one, called only
    where `exact_affine` finds one (`float_scaled` takes the others)."""
    x = ctx.operand(n.inputs[0], n)
    if is_typed(n):
        types = [FixedType.parse(n.attrs[name]) for name in (SCALE_ATTRIBUTE, SHIFT_ATTRIBUTE)]
        constants = [quantize(value, t) for value, t in zip(derived_affine(_parameters(n, ctx), n), types)]
    else:
        constants = exact_affine(ctx, n)
        types = [exact_type(data) for data in constants]
    view = (-1,) + (1,) * (len(ctx.tensors[x].shape) - 1)
    names = [ctx.add_constant(f"{n.name}_{stem}", data.reshape(view), t)
             for stem, data, t in zip(("scale", "shift"), constants, types)]
    ctx.add(Node("Affine", n.name, [x, *names], n.outputs[:1]), n)


def is_typed(n: OnnxNode) -> bool:
    """Whether `float_types` gave the node the types of its constants."""
    return SCALE_ATTRIBUTE in n.attrs


def derived_affine(parameters: list[np.ndarray], n: OnnxNode) -> tuple[np.ndarray, np.ndarray]:
    """Per channel a = gamma / sqrt(var + epsilon) and b = beta - mean * a, in float64
    from the float32 parameters (gamma, beta, mean, var) and epsilon."""
    gamma, beta, mean, variance = (np.asarray(p, dtype=np.float32).astype(np.float64).reshape(-1)
                                   for p in parameters)
    epsilon = float(np.float32(n.attrs.get("epsilon", 1e-5)))
    a = gamma / np.sqrt(variance + epsilon)
    return a, beta - mean * a


def _parameters(n: OnnxNode, ctx: ImportContext) -> list[np.ndarray]:
    parameters = _inference_parameters(ctx, n)
    if parameters is None:
        raise n.refuse("only inference with constant parameters (scale, B, mean, var) is supported")
    return parameters


def _inference_parameters(ctx: ImportContext, n: OnnxNode) -> list[np.ndarray] | None:
    """(scale, B, mean, var) of a BatchNormalization in inference with constant parameters, else None."""
    parameters = [ctx.constant(name) for name in n.inputs[1:5]]
    if any(p is None for p in parameters) or n.attrs.get("training_mode", 0) or len(n.outputs) > 1:
        return None
    return parameters


def exact_affine(ctx: ImportContext, n: OnnxNode) -> tuple[np.ndarray, np.ndarray] | None:
    """The per-channel scale and shift (one value per channel) of the exact
    Affine the BatchNormalization is, or None where it is none."""
    parameters = _inference_parameters(ctx, n)
    if parameters is None:
        return None
    x = ctx.tensor(n.inputs[0]) if n.inputs[0] not in ctx.chains else None
    if x is None or x.type is None or x.data is not None or "scale" in x.facts:
        return None
    gamma, beta, mean = ([Fraction(v) for v in p.tolist()] for p in parameters[:3])
    variance = parameters[3].astype(np.float32) + np.float32(n.attrs.get("epsilon", 1e-5))
    scale, shift = [], []
    for g, b, m, v in zip(gamma, beta, mean, variance.tolist()):
        inverse_root = _inverse_root_of_power_of_four(Fraction(v))
        steps = [g * inverse_root, m * g * inverse_root, b - m * g * inverse_root] if inverse_root else []
        if not steps or not all(_is_float32(step) for step in steps):
            return None
        scale.append(steps[0])
        shift.append(steps[2])
    scale, shift = (np.array([float(v) for v in values], dtype=np.float64) for values in (scale, shift))
    result = result_type("add", result_type("mul", x.type, exact_type(scale)), exact_type(shift))
    return (scale, shift) if result.width <= _FLOAT32_SIGNIFICAND else None


def _inverse_root_of_power_of_four(value: Fraction) -> Fraction | None:
    """1/sqrt(value) when value is 4**k, else None."""
    numerator, denominator = value.numerator, value.denominator
    if numerator <= 0 or numerator & (numerator - 1) or denominator & (denominator - 1):
        return None
    exponent = numerator.bit_length() - denominator.bit_length()
    return Fraction(2) ** (-exponent // 2) if exponent % 2 == 0 else None


def _is_float32(value: Fraction) -> bool:
    return Fraction(float(np.float32(float(value)))) == value


CONVERTERS = {"BatchNormalization": batch_normalization}
