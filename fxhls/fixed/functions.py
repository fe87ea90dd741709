"""The element-wise non-linear functions fxhls computes (Sigmoid, Tanh, ...): one definition, in float64.

Every user reads them from here: the IR's lookup tables (an entry is the function of a
code's value, quantized to the output type), QFX's activation layers (whose forward is
that same function of the input's values, then quantized), and a float-scaled model's
float32 chains (a step's value is the float32 nearest to the float64 function of its
float32 input, `fxhls.fixed.float32`). Names and parameters are ONNX's (`alpha`, `beta`,
`gamma`, with ONNX's defaults); parameters are float32 numbers, as ONNX attributes hold
them, so a parameter means the same in a QFX layer, in its exported node and in the table
read back.

This file imports nothing but numpy, so the deploy package ships it as it is beside
float32.py (the host's float work of a float-scaled model).
"""

from __future__ import annotations

import numpy as np

# name -> (f(x, params) on float64 arrays, ONNX's default parameters)
FUNCTIONS = {
    "Sigmoid": (lambda x, p: 1.0 / (1.0 + np.exp(-x)), {}),
    "Tanh": (lambda x, p: np.tanh(x), {}),
    "HardSigmoid": (lambda x, p: np.clip(p["alpha"] * x + p["beta"], 0.0, 1.0), {"alpha": 0.2, "beta": 0.5}),
    "Elu": (lambda x, p: np.where(x > 0, x, p["alpha"] * np.expm1(np.minimum(x, 0.0))), {"alpha": 1.0}),
    "Selu": (lambda x, p: p["gamma"] * np.where(x > 0, x, p["alpha"] * np.expm1(np.minimum(x, 0.0))),
             {"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875}),
    "Softplus": (lambda x, p: np.logaddexp(0.0, x), {}),
    "Exp": (lambda x, p: np.exp(x), {}),
}

# Functions a lookup table computes that are no ONNX activation (no model names them):
# a float-scaled quantizer's float32 value of its codes x, (x - zero) * scale as qonnx computes
# it (the table that reads an operand of a residual Add of two scales as the values it adds).
TABLE_ONLY = {
    "Dequantize": (lambda x, p: ((x.astype(np.float32) - np.float32(p["zero"])) * np.float32(p["scale"]))
                   .astype(np.float64), {"scale": 1.0, "zero": 0.0}),
}
TABLE_FUNCTIONS = {**FUNCTIONS, **TABLE_ONLY}

# A lookup table holds one entry per code of its input type: 65,536 entries at 16 bits
# (a few BRAM36 per lane for 16-bit outputs); a wider input is refused.
MAX_TABLE_INPUT_BITS = 16


def parameters(function: str, attrs: dict) -> dict:
    """The function's parameters as float32 numbers (Python floats): ONNX's defaults,
    overridden by `attrs`; names the function does not have are ignored."""
    defaults = TABLE_FUNCTIONS[function][1]
    return {name: float(np.float32(attrs.get(name, value))) for name, value in defaults.items()}


def evaluate(function: str, x: np.ndarray, params: dict) -> np.ndarray:
    """The float64 values of `function` (parameters `params`, see `parameters`) at the float64 values `x`."""
    with np.errstate(over="ignore"):
        return TABLE_FUNCTIONS[function][0](np.asarray(x, dtype=np.float64), params)


def monotone(function: str, params: dict) -> bool:
    """Whether the function is monotone (non-decreasing or non-increasing) over the reals:
    every one is but an Elu or Selu with a negative alpha (falling, then rising)."""
    return function not in ("Elu", "Selu") or params["alpha"] >= 0
