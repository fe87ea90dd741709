"""`quantize`: the value C++ `T r = x;` stores, for numpy arrays and PyTorch tensors.

numpy arrays go through the native kernel (`fxhls.fixed.native`), or through
`quantize_numpy` when the kernel cannot serve them (no C++ compiler, `FXHLS_NATIVE=0`);
PyTorch tensors through the PyTorch implementation (`quantize_torch`). All three take the
same exact steps. This module imports torch only when a tensor comes in.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import native
from .formats import check_exact, kernel_constants, require_float  # also imported from here by fxhls.qfx
from .quantize_numpy import quantize_with_constants
from .tensor_boundary import is_tensor
from .types import FixedType

__all__ = ["quantize", "quantize_array", "check_exact", "kernel_constants", "require_float"]


def quantize(x, t: FixedType | str):
    """Return, element by element, exactly the value that C++ `t r = x;` stores.

    `x` is a float32 or float64 numpy array or PyTorch tensor (on any device), or
    anything `np.asarray` takes (integers become float64); the result is of x's kind,
    dtype and shape (and device). `t` is a `FixedType` or its C++ spelling. Exact for
    widths up to 24 bits on float32 and 53 on float64; a wider type raises `ValueError`
    rather than approximate. NaN is not a fixed-point value: it stays NaN (the C++ headers
    warn and store a saturated or wrapped code).

    On tensors, the gradient is straight-through: the incoming gradient passes
    unchanged where `t.min <= x <= t.max` and is zero outside that range, where the
    value saturates or wraps.
    """
    t = FixedType.parse(t)
    if is_tensor(x):
        return _torch_implementation().quantize_tensor(x, t)
    x = np.asarray(x)
    if x.dtype.kind in "biu":  # integers, as C++ converts them
        x = x.astype(np.float64)
    check_exact(t, x.dtype)
    return quantize_array(x, t)


def quantize_array(x: np.ndarray, t: FixedType) -> np.ndarray:
    """`quantize` of a numpy array without checks: `x` must already pass `check_exact`."""
    constants = kernel_constants(t, x.dtype)
    values = native.quantize_array(x, t, constants)
    if values is not None:
        return values
    return quantize_with_constants(x, t.rounding, t.overflow, t.signed, constants)


@lru_cache(maxsize=None)
def _torch_implementation():
    """`quantize_torch`, imported (with torch) on first use."""
    from . import quantize_torch

    return quantize_torch


def __getattr__(name: str):
    # The PyTorch implementation's names, loaded with torch on first use (fxhls.qfx imports them).
    if name == "quantize_values":
        return _torch_implementation().quantize_values
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
