"""Module parameters of the generated top's stages that come from the graph's constants."""

from __future__ import annotations

import math

import numpy as np

from fxhls.deploy.packing import to_codes
from fxhls.fixed import FixedType, reciprocal
from fxhls.ir.graph import Graph, Node
from fxhls.ir.ops.mul_shift import exception_columns, exception_count, node_widths
from fxhls.ir.ops.softmax import exp_entries, reciprocal_entries, softmax_types, sum_range

from .stages import reciprocal_parameters, type_parameters
from .verilog import packed_codes, packed_literal


def affine_parameters(graph: Graph, node: Node, lanes: int) -> dict:
    """`fxhls_affine`'s constants for Affine `node`: K-hot terms or multiplier codes, biases."""
    scale, shift = graph.tensor(node.inputs[1]), graph.tensor(node.inputs[2])
    channels = scale.data.size
    parameters = {"C": channels, "LANES": lanes, **type_parameters("BIAS", shift.type),
                  "BIASES": packed_literal(codes_of(shift.data, shift.type), shift.type.width)}
    return parameters | scale_parameters(scale.data, scale.type, scale.facts.get("terms"))


def scale_parameters(values, t: FixedType, terms: tuple | None) -> dict:
    """A per-channel multiplier's constants (`fxhls_affine`, `fxhls_prelu`): its K-hot
    `terms` (signs, exponents) as KIND "khot", its products registered before the sum and
    cast (PIPELINE: the shift-add and the cast would pass the LUT levels of a 250 MHz clock
    together, `bench/backends.py`), else its codes of type `t` as KIND "mul" (a DSP slice)."""
    if terms is not None:
        signs, exponents = terms
        used = signs != 0
        lowest = int(exponents[used].min()) if used.any() else 0
        shift_w = max(1, int((exponents - lowest)[used].max()).bit_length()) if used.any() else 1
        codes = [(1 << (shift_w + 1)) | (int(s < 0) << shift_w) | (int(e) - lowest) if s else 0
                 for s, e in zip(signs.flatten().tolist(), exponents.flatten().tolist())]
        return {"KIND": "khot", "PIPELINE": 1, "SCALE_FRAC": -lowest, "K": signs.shape[-1], "SHIFT_W": shift_w,
                "TERMS": f"{len(codes) * (shift_w + 2)}'h{packed_codes(codes, shift_w + 2):x}"}
    return {"KIND": "mul", **type_parameters("SCALE", t), "SCALES": packed_literal(codes_of(values, t), t.width)}


def threshold_parameters(graph: Graph, node: Node, lanes: int) -> dict:
    """`fxhls_threshold`'s constants for Threshold `node`: each channel's threshold as a
    code on its input's grid (rising: the least code at or above it; falling: the greatest
    at or below it), clamped to one past the input's codes, and its direction."""
    x_type = graph.tensor(node.inputs[0]).type
    scaled = graph.tensor(node.inputs[1]).data.astype(np.float64) * 2.0**x_type.frac_bits
    rising = [direction > 0 for direction in node.attrs["direction"]]
    low, high = x_type.min_code - 1, x_type.max_code + 1
    clamped = np.clip(scaled, low, high)  # also an infinite threshold
    limits = [math.ceil(t) if up else math.floor(t) for t, up in zip(clamped.tolist(), rising)]
    width = x_type.width + 2
    return {"C": len(limits), "LANES": lanes, "X_W": x_type.width, "X_SIGNED": int(x_type.signed), "LIMIT_W": width,
            "LIMITS": packed_literal(limits, width), "DIRECTIONS": packed_literal(rising, 1)}


def codes_of(values, t: FixedType) -> list[int]:
    """The ap_fixed codes of exact values of type `t` (refused when off its grid)."""
    return to_codes(values.flatten(), t.frac_bits).tolist()


def reciprocal_of(node: Node, count: int) -> dict:
    """The pooling unit's 1/count parameters, as the IR's op multiplies by it."""
    if "reciprocal_type" in node.attrs:
        return reciprocal_parameters(reciprocal(count, FixedType.parse(node.attrs["reciprocal_type"])))
    if count & (count - 1):
        raise ValueError(f"node {node.name!r}: averaging {count} values needs a reciprocal_type (1/{count} is "
                         f"not a power of two)")
    return reciprocal_parameters(1.0 / count)


def multithreshold_parameters(graph: Graph, node: Node, lanes: int) -> dict:
    """`fxhls_multithreshold`'s parameters for MultiThreshold `node`."""
    x, limits = graph.tensor(node.inputs[0]), graph.tensor(node.inputs[1])
    if limits.type.frac_bits != x.type.frac_bits:
        raise ValueError(f"node {node.name!r}: its thresholds ({limits.type}) are not on its input's grid ({x.type})")
    channels, levels = limits.data.shape
    return {"C": channels, "LANES": lanes, "X_W": x.type.width, "X_SIGNED": int(x.type.signed), "L": levels,
            "T_W": limits.type.width,
            "THRESHOLDS": packed_literal(codes_of(limits.data, limits.type), limits.type.width),
            "RISING": packed_literal([int(d > 0) for d in node.attrs["direction"]], 1), "BASE": int(node.attrs["base"]),
            "OUT_W": graph.tensor(node.outputs[0]).type.width}


def softmax_parameters(node: Node, x_type: FixedType, classes: int) -> dict:
    """fxhls_softmax's parameters for Softmax `node` over `classes` values of type `x_type`:
    its types and both tables' codes."""
    types = softmax_types(node, x_type, classes)
    exp, reciprocal = exp_entries(x_type, types.exp), reciprocal_entries(types)
    return {"X_W": x_type.width, "X_SIGNED": int(x_type.signed),
            "EXP_W": types.exp.width, "EXP_FRAC": types.exp.frac_bits, "EXP_N": len(exp),
            "EXP_ENTRIES": packed_literal(exp.tolist(), types.exp.width), "SUMX_W": types.exact_sum.width,
            **type_parameters("SUM", types.sum, True), "SUM_LOWEST": sum_range(types)[0],
            "REC_W": types.reciprocal.width, "REC_FRAC": types.reciprocal.frac_bits, "REC_N": len(reciprocal),
            "RECIPROCAL_ENTRIES": packed_literal(reciprocal.tolist(), types.reciprocal.width),
            **type_parameters("OUT", types.out, True)}
def mul_shift_parameters(graph: Graph, node: Node, lanes: int) -> dict:
    """`fxhls_mul_shift`'s parameters for MulShift `node`."""
    x_type, out_type = graph.tensor(node.inputs[0]).type, graph.tensor(node.outputs[0]).type
    if x_type.frac_bits != node.attrs["frac_bits"]:
        raise ValueError(f"node {node.name!r}: its constants are for codes with {node.attrs['frac_bits']} "
                         f"fractional bits, its input is {x_type}")
    multiplier_bits, sum_bits = node_widths(node, x_type, out_type)
    return {"C": len(node.attrs["multiplier"]), "LANES": lanes, "X_W": x_type.width, "X_SIGNED": int(x_type.signed),
            "M_W": multiplier_bits, "MULTIPLIERS": packed_literal(node.attrs["multiplier"], multiplier_bits),
            "SUM_W": sum_bits, "BIASES": packed_literal(node.attrs["bias"], sum_bits), "SHIFT": node.attrs["shift"],
            "ROUNDING": node.attrs["shift_rounding"], "OUT_W": out_type.width, "OUT_SIGNED": int(out_type.signed),
            "LOWS": packed_literal(node.attrs["low"], out_type.width),
            "HIGHS": packed_literal(node.attrs["high"], out_type.width), **_exception_parameters(node, x_type.width)}


def _exception_parameters(node: Node, x_width: int) -> dict:
    """`fxhls_mul_shift`'s EXC_ parameters: each channel's exception ranges, padded."""
    if not exception_count(node):
        return {}
    firsts, lasts, corrections = ([v for row in column for v in row] for column in exception_columns(node))
    return {"EXC_N": exception_count(node), "EXC_FIRSTS": packed_literal(firsts, x_width),
            "EXC_LASTS": packed_literal(lasts, x_width), "EXC_CORRECTIONS": packed_literal(corrections, 2)}
