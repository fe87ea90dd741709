"""Table: an element-wise non-linear function as a lookup table over its input's grid.

Attributes: `function` (a key of `fxhls.fixed.functions.TABLE_FUNCTIONS`, where the functions
are defined), its parameters (`alpha`, `beta`, `gamma` as ONNX names them, defaults
ONNX's) and the output type (`type_attrs`). Over an input of at most `MAX_INPUT_BITS` bits
the table holds one entry per code of the input type, lowest code first: the float64
function of the code's value, quantized to the output type (`fxhls.fixed.quantize`), and
execution reads entry (code - lowest code). Over a wider input (up to
`MAX_TRUNCATED_INPUT_BITS`) the node also carries its truncation (`clamp_low`,
`clamp_high`, `drop_bits`: `fxhls.fixed.table_grid`, set by `table_attrs`): the entries are
the function at the truncated grid's points and execution reads the truncation's index.
Either way the emulator, the C++ ROM and the RTL memory hold the same numbers.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from fxhls.fixed import FixedType, quantize
from fxhls.fixed.functions import TABLE_FUNCTIONS, evaluate, parameters
from fxhls.fixed.functions import MAX_TABLE_INPUT_BITS as MAX_INPUT_BITS
from fxhls.fixed.table_grid import Truncation, needs_truncation, truncation, truncation_refusal

from .quantize import node_type, type_attrs


def table_attrs(function: str, params: dict, in_type: FixedType, out_type: FixedType) -> dict:
    """A Table node's attributes: the function, its parameters, the output type and, over a
    wide input, the truncation."""
    attrs = {"function": function, **params, **type_attrs(out_type)}
    if needs_truncation(in_type):
        attrs.update(_truncation(attrs, in_type).attrs())
    return attrs


def table_entries(node, in_type: FixedType) -> np.ndarray:
    """The table of `node` over `in_type`: one entry per code, lowest code first, or, for a
    truncated table, one per index (float64 values of the output type)."""
    params = parameters(node.attrs["function"], node.attrs)
    return _entries(node.attrs["function"], tuple(sorted(params.items())), in_type, node_type(node.attrs),
                    Truncation.from_attrs(node.attrs))


def table_index(node, codes: np.ndarray, in_type: FixedType) -> np.ndarray:
    """The entry each input code (int64) reads."""
    cut = Truncation.from_attrs(node.attrs)
    return codes - in_type.min_code if cut is None else cut.index(codes)


@lru_cache(maxsize=32)
def _entries(function: str, params: tuple, in_type: FixedType, out_type: FixedType, cut: Truncation | None):
    codes = np.arange(in_type.min_code, in_type.max_code + 1, dtype=np.int64) if cut is None else cut.grid_codes()
    entries = quantize(evaluate(function, codes * in_type.lsb, dict(params)), out_type)
    entries.setflags(write=False)
    return entries


def _truncation(attrs: dict, in_type: FixedType) -> Truncation:
    params = parameters(attrs["function"], attrs)
    return truncation(attrs["function"], tuple(sorted(params.items())), in_type, node_type(attrs))


def refusal(function: str, in_type: FixedType | None) -> str | None:
    """Why a `function` table over `in_type` cannot be built (one line, the node not named), or None."""
    if function not in TABLE_FUNCTIONS:
        return f"no table for function {function!r}; supported: {', '.join(TABLE_FUNCTIONS)}"
    if in_type is None:
        return f"a {function} table needs a fixed-point input type"
    return truncation_refusal(function, in_type)


def _check(node, in_type: FixedType | None) -> None:
    reason = refusal(node.attrs["function"], in_type)
    if not reason:
        wanted = _truncation(node.attrs, in_type) if needs_truncation(in_type) else None
        if Truncation.from_attrs(node.attrs) != wanted:
            reason = (f"its truncation attributes (clamp_low, clamp_high, drop_bits) are not those of its {in_type} "
                      f"input ({wanted or 'none: a full table'})")
    if reason:
        raise ValueError(f"node {node.name!r}: {reason}")


class Table:
    reads_types = True

    @staticmethod
    def infer(node, inputs):
        _check(node, inputs[0].type)
        return [(inputs[0].shape, node_type(node.attrs))]

    @staticmethod
    def execute(node, values, types=None):
        in_type = types[0] if types else None
        _check(node, in_type)
        codes = np.rint(values[0] / in_type.lsb).astype(np.int64)
        return [table_entries(node, in_type)[table_index(node, codes, in_type)]]


OPS = {"Table": Table}
