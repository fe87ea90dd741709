"""Table in the HLS backend (templates/hls/layers/table.h): a ROM of the IR's entries
(`fxhls.ir.ops.table.table_entries`) as the output type's codes, indexed by the input's
raw bits, or for a truncated table (a wide input) by the truncation's index
(`fxhls.fixed.table_grid`: clamp, subtract, round off the dropped bits). Plain integers, not ap_fixed constants: g++ compiles a 65,536-entry table of
those in seconds, and one of ap_fixed constructors not in ten minutes."""

from __future__ import annotations

import numpy as np

from fxhls.fixed.codes import to_codes
from fxhls.fixed.table_grid import Truncation
from fxhls.ir.ops.table import table_entries
from fxhls.templating import render

from .calls import stage_call
from .context import LayerContext
from .conv import code_type

HEADERS = ("table.h",)


def rom_entries(node, in_type) -> np.ndarray:
    """The entries in the order the hardware indexes them: a full table by the input's raw
    bits (codes 0, 1, ..., then, signed, the negative codes), a truncated one by its index."""
    if Truncation.from_attrs(node.attrs) is not None:
        return table_entries(node, in_type)
    return np.roll(table_entries(node, in_type), in_type.min_code)


def table_layer(context: LayerContext) -> dict:
    """The C++ of a Table node: its config, its ROM and the stage that reads it."""
    node, name, stream = context.node, context.name, context.inputs[0]
    out_type = context.output.type
    values = dict(node=node.name, layer=name, function=node.attrs["function"], out_type=out_type,
                  code_type=code_type(out_type), beats=stream.beats, lanes=stream.lanes, in_width=stream.type.width,
                  in_signed=stream.type.signed, truncation=Truncation.from_attrs(node.attrs),
                  entries=to_codes(rom_entries(node, stream.type), out_type.frac_bits).tolist())
    return {
        "code": render("hls/layers/table_config.h.j2", **values),
        "weights": render("hls/layers/table_entries.h.j2", **values),
        "call": stage_call("fxhls::table", [f"{name}_config"], [f"{name}_entries"]),
        "headers": HEADERS,
    }
