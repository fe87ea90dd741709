"""MulShift in the HLS backend (templates/hls/layers/mul_shift.h): per channel, the input's
code times a multiplier plus a bias, rounded by a shift and clamped, then corrected by +1
or -1 on its exception ranges."""

from __future__ import annotations

from fxhls.ir.ops.mul_shift import exception_columns, exception_count, node_widths
from fxhls.templating import render

from .calls import stage_call
from .context import LayerContext

HEADERS = ("mul_shift.h",)


def mul_shift_layer(context: LayerContext) -> dict:
    """The C++ of a MulShift node (contracts.md section 4)."""
    node, name, stream = context.node, context.name, context.inputs[0]
    x_type, out_type = stream.type, context.output.type
    if x_type.frac_bits != node.attrs["frac_bits"]:
        raise ValueError(f"node {node.name!r}: its constants are for codes with {node.attrs['frac_bits']} "
                         f"fractional bits, its input is {x_type}")
    multiplier_bits, sum_bits = node_widths(node, x_type, out_type)
    columns = exception_columns(node) if exception_count(node) else ([[1]] * len(node.attrs["multiplier"]),
                                                                      [[0]] * len(node.attrs["multiplier"]),
                                                                      [[0]] * len(node.attrs["multiplier"]))
    firsts, lasts, corrections = ([[f"{int(v)}LL" for v in row] for row in column] for column in columns)
    values = dict(exceptions=exception_count(node), firsts=firsts, lasts=lasts, corrections=corrections, node=node.name, layer=name, channels=len(node.attrs["multiplier"]), pixels=stream.beats,
                  shift=node.attrs["shift"], rounding=node.attrs["shift_rounding"], multiplier_bits=multiplier_bits,
                  sum_bits=sum_bits, quotient_bits=sum_bits - node.attrs["shift"] + 2,
                  x_code_type=f"ap_{'' if x_type.signed else 'u'}int<{x_type.width}>",
                  **{key: [f"{int(v)}LL" for v in node.attrs[attr]]
                     for key, attr in (("multipliers", "multiplier"), ("biases", "bias"), ("lows", "low"),
                                       ("highs", "high"))})
    return {
        "code": render("hls/layers/mul_shift_config.h.j2", **values),
        "weights": render("hls/layers/mul_shift_constants.h.j2", **values),
        "call": stage_call("fxhls::mul_shift_stream", [f"{name}_config"],
                           [f"{name}_multipliers", f"{name}_biases", f"{name}_lows", f"{name}_highs",
                            f"{name}_firsts", f"{name}_lasts", f"{name}_corrections"]),
        "headers": HEADERS,
    }
