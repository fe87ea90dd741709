"""Table: an element-wise non-linear function as a lookup table over its input's grid.

Attributes: `function` (a key of `FUNCTIONS`), its parameters (`alpha`, `beta`, `gamma`
as ONNX names them, defaults ONNX's) and the output type (`type_attrs`). The table holds
one entry per code of the input type, lowest code first: the float64 function of the
code's value, quantized to the output type (`fxhls.fixed.quantize`). Execution reads
entry (code - lowest code), so the emulator, the C++ ROM and any other backend hold
the same numbers. An input wider than `MAX_INPUT_BITS` is refused in one line.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from fxhls.fixed import FixedType, quantize

from .quantize import node_type

MAX_INPUT_BITS = 16  # 65,536 entries: a few BRAM36 per lane for 16-bit outputs

# name -> (f(x, params), ONNX's default parameters)
FUNCTIONS = {
    "Sigmoid": (lambda x, p: 1.0 / (1.0 + np.exp(-x)), {}),
    "Tanh": (lambda x, p: np.tanh(x), {}),
    "HardSigmoid": (lambda x, p: np.clip(p["alpha"] * x + p["beta"], 0.0, 1.0), {"alpha": 0.2, "beta": 0.5}),
    "Elu": (lambda x, p: np.where(x > 0, x, p["alpha"] * np.expm1(np.minimum(x, 0.0))), {"alpha": 1.0}),
    "Selu": (lambda x, p: p["gamma"] * np.where(x > 0, x, p["alpha"] * np.expm1(np.minimum(x, 0.0))),
             {"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875}),
    "Softplus": (lambda x, p: np.logaddexp(0.0, x), {}),
    "Exp": (lambda x, p: np.exp(x), {}),
    # a float-scaled quantizer's float32 value of its codes x, as qonnx computes it: (x - zero) * scale
    "Dequantize": (lambda x, p: ((x.astype(np.float32) - np.float32(p["zero"])) * np.float32(p["scale"]))
                   .astype(np.float64), {"scale": 1.0, "zero": 0.0}),
}


def parameters(function: str, attrs: dict) -> dict:
    """The function's parameters: ONNX's defaults, overridden by `attrs`."""
    defaults = FUNCTIONS[function][1]
    return {name: float(attrs.get(name, value)) for name, value in defaults.items()}


def table_entries(node, in_type: FixedType) -> np.ndarray:
    """The table of `node` over `in_type`'s codes, lowest code first (float64 values of the output type)."""
    params = parameters(node.attrs["function"], node.attrs)
    return _entries(node.attrs["function"], tuple(sorted(params.items())), in_type, node_type(node.attrs))


@lru_cache(maxsize=32)
def _entries(function: str, params: tuple, in_type: FixedType, out_type: FixedType) -> np.ndarray:
    grid = np.arange(in_type.min_code, in_type.max_code + 1, dtype=np.float64) * in_type.lsb
    with np.errstate(over="ignore"):
        entries = quantize(FUNCTIONS[function][0](grid, dict(params)), out_type)
    entries.setflags(write=False)
    return entries


def refusal(function: str, in_type: FixedType | None) -> str | None:
    """Why a `function` table over `in_type` cannot be built (one line, the node not named), or None."""
    if function not in FUNCTIONS:
        return f"no table for function {function!r}; supported: {', '.join(FUNCTIONS)}"
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
