"""Table: an element-wise non-linear function as a lookup table over its input's grid.

Attributes: `function` (a key of `fxhls.fixed.functions.TABLE_FUNCTIONS`, where the functions
are defined), its parameters (`alpha`, `beta`, `gamma` as ONNX names them, defaults
ONNX's) and the output type (`type_attrs`). The table holds one entry per code of the
input type, lowest code first: the float64 function of the code's value, quantized to
the output type (`fxhls.fixed.quantize`). Execution reads entry (code - lowest code), so
the emulator, the C++ ROM and any other backend hold the same numbers. An input wider than `MAX_INPUT_BITS` is refused in one line.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from fxhls.fixed import FixedType, quantize
from fxhls.fixed.functions import TABLE_FUNCTIONS, evaluate, parameters
from fxhls.fixed.functions import MAX_TABLE_INPUT_BITS as MAX_INPUT_BITS

from .quantize import node_type


def table_entries(node, in_type: FixedType) -> np.ndarray:
    """The table of `node` over `in_type`'s codes, lowest code first (float64 values of the output type)."""
    params = parameters(node.attrs["function"], node.attrs)
    return _entries(node.attrs["function"], tuple(sorted(params.items())), in_type, node_type(node.attrs))


@lru_cache(maxsize=32)
def _entries(function: str, params: tuple, in_type: FixedType, out_type: FixedType) -> np.ndarray:
    grid = np.arange(in_type.min_code, in_type.max_code + 1, dtype=np.float64) * in_type.lsb
    entries = quantize(evaluate(function, grid, dict(params)), out_type)
    entries.setflags(write=False)
    return entries


def refusal(function: str, in_type: FixedType | None) -> str | None:
    """Why a `function` table over `in_type` cannot be built (one line, the node not named), or None."""
    if function not in TABLE_FUNCTIONS:
        return f"no table for function {function!r}; supported: {', '.join(TABLE_FUNCTIONS)}"
    if in_type is None:
        return f"a {function} table needs a fixed-point input type"
    if in_type.width > MAX_INPUT_BITS:
        return (f"a {function} table over {in_type} would hold {2 ** in_type.width:,} entries per lane (the limit "
                f"is {2 ** MAX_INPUT_BITS:,}, inputs of at most {MAX_INPUT_BITS} bits); narrow its input (a config "
                f"output type for the layer before it, or a quantizer before the {function})")
    return None


def _check(node, in_type: FixedType | None) -> None:
    reason = refusal(node.attrs["function"], in_type)
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
        codes = np.rint(values[0] / in_type.lsb).astype(np.int64) - in_type.min_code
        return [table_entries(node, in_type)[codes]]


OPS = {"Table": Table}
