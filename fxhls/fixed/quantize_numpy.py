"""`quantize` in numpy alone: the steps of `quantize_torch.quantize_values`, for numpy
arrays where the native kernel cannot serve them (no C++ compiler, `FXHLS_NATIVE=0`),
and for the board.

This file imports nothing but numpy, so the deploy package ships it as it is: the
driver quantizes float inputs with the very code the emulator's fallback runs, from the
constants `fxhls.fixed.formats.kernel_constants` computed on the host (design.json).
"""

from __future__ import annotations

import numpy as np


def quantize_with_constants(x: np.ndarray, rounding: str, overflow: str, signed: bool, constants) -> np.ndarray:
    """The values C++ stores for the float32 or float64 array `x` in the type whose
    `kernel_constants` (scale 2**F, 1/scale, lowest and highest code, wrap bound, 2**W)
    are `constants`, with the C++ `rounding` and `overflow` modes. `x` must fit the type
    exactly (`check_exact`); the result has x's dtype and shape. Every step is exact."""
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf at an infinite x is NaN, then saturated
        return _quantize(np.asarray(x), rounding, overflow, signed, constants)


def _quantize(x: np.ndarray, rounding: str, overflow: str, signed: bool, constants) -> np.ndarray:
    scale, inverse, low, high, bound, modulus = constants
    scaled = x * x.dtype.type(scale)
    if scale < 1:
        # Scaling down may underflow a tiny x to zero; it must keep its sign, as
        # floor(-tiny) is -1. Any value of magnitude below one half rounds alike.
        scaled = np.where(scaled == 0, np.sign(x) * x.dtype.type(0.25), scaled)
    if overflow == "AP_WRAP":
        scaled = np.clip(scaled, -bound, bound)
    code = _round(scaled, rounding)
    code = _overflow(code, overflow, signed, low, high, modulus)
    return code * x.dtype.type(inverse) + x.dtype.type(0.0)  # + 0 turns -0 into +0, as C++ stores it


def _round(v: np.ndarray, mode: str) -> np.ndarray:
    """The scaled values `v` rounded to integer codes with the C++ quantization mode; `v -
    rint(v)` is exactly +-0.5 at a tie (adding 0.5 before a floor would not be exact)."""
    if mode == "AP_TRN":
        return np.floor(v)
    if mode == "AP_TRN_ZERO":
        return np.trunc(v)
    code = np.rint(v)  # ties to even
    if mode == "AP_RND_CONV":
        return code
    if mode in ("AP_RND", "AP_RND_MIN_INF"):
        wrong_way = 0.5 if mode == "AP_RND" else -0.5  # a tie that went down (up) must go up (down)
        return code + (v - code == wrong_way) * v.dtype.type(2 * wrong_way)
    tie = np.abs(v - code) == 0.5  # AP_RND_INF / AP_RND_ZERO: ties away from / toward zero
    away = np.copysign(v.dtype.type(0.5), v)
    return np.where(tie, v + away if mode == "AP_RND_INF" else v - away, code)


def _overflow(code: np.ndarray, mode: str, signed: bool, low: float, high: float, modulus: float) -> np.ndarray:
    """Integer codes brought into [low, high] with the C++ overflow mode."""
    if mode in ("AP_SAT", "AP_SAT_SYM"):
        return np.clip(code, low, high)
    if mode == "AP_SAT_ZERO":
        return np.where((code < low) | (code > high), code.dtype.type(0), code)
    # AP_WRAP: code - 2**W * floor(code / 2**W + (1/2 if signed)), exact below the wrap bound.
    wraps = code * code.dtype.type(1 / modulus)
    if signed:
        wraps = wraps + code.dtype.type(0.5)
    return code - np.floor(wraps) * code.dtype.type(modulus)
