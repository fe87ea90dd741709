"""The one-pass CPU kernels of `kernels.cpp`, built once per machine and called through ctypes.

A quantize in PyTorch is five or more passes over memory; on a CPU these passes,
not the arithmetic, are what a fixed-point training step spends its time on. The
kernels do the same exact steps in one pass. They serve contiguous float32 and
float64 CPU tensors outside autograd. Each function returns None for anything
else, and when the kernels cannot be built (no C++ compiler) or are turned off
(`FXHLS_NATIVE=0`, or `disabled()` in tests); the caller then takes its PyTorch
path, which gives the same values.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import subprocess
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np

from fxhls.cache import cached_file, default_cache_dir

from .types import OVERFLOW_MODES, ROUNDING_MODES, FixedType

SOURCE = Path(__file__).with_name("kernels.cpp")
# IEEE arithmetic as PyTorch does it: no fast-math, no fused multiply-add. Not trapping
# lets conditionals become vector blends; the machine's own vector units (AVX2 or
# wider on x86) make the pass about three times as fast as with SSE alone, so the
# library is built per machine kind (see `_machine`). OpenMP SIMD (no threads) lets the
# gradient sum run in vector lanes.
FLAGS = ["-O3", "-march=native", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off", "-fno-math-errno",
         "-fno-trapping-math", "-fopenmp-simd"]

_state = {"enabled": os.environ.get("FXHLS_NATIVE", "1") != "0"}
# The entry points for PyTorch tensors, in `native_tensors` (loaded with torch on first use).
_TENSOR_ENTRY_POINTS = ("serves", "kernels_for", "quantize_into", "affine_quantize", "affine_backward",
                        "affine_relu_quantize", "affine_relu_backward", "channel_sums",
                        "max_pool_tiles", "max_pool_tiles_backward")


def __getattr__(name: str):
    if name not in _TENSOR_ENTRY_POINTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import native_tensors

    entry_point = getattr(native_tensors, name)
    globals()[name] = entry_point  # found directly from now on
    return entry_point


@contextmanager
def disabled() -> Iterator[None]:
    """Within the block, every caller takes its PyTorch path (for tests comparing both)."""
    previous = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = previous


def quantize_array(x: np.ndarray, t: FixedType, constants: tuple) -> np.ndarray | None:
    """`quantize` of a float32 or float64 numpy array in one pass (a new array of x's dtype
    and shape), or None if the kernels cannot serve it. `constants`: `(scale, lsb,
    min_code, max_code, wrap_bound, modulus)` as floats (`formats.kernel_constants`)."""
    library = loaded_library()
    if library is None or x.dtype not in (np.float32, np.float64):
        return None
    x = np.require(x, requirements="C")
    y = np.empty_like(x)
    kernel = library.fxhls_quantize_f32 if x.dtype == np.float32 else library.fxhls_quantize_f64
    kernel(*modes(t, constants), x.ctypes.data, y.ctypes.data, x.size)
    return y


def loaded_library():
    """The loaded kernels (built on first use), or None when turned off or they cannot be built."""
    return _library() if _state["enabled"] else None


def modes(t: FixedType, constants: tuple) -> tuple:
    """A kernel's first arguments: `t`'s rounding and overflow modes and its constants."""
    return (ROUNDING_MODES.index(t.rounding), OVERFLOW_MODES.index(t.overflow), t.frac_bits < 0, t.signed,
            _constant_array(constants))


def mode_arrays(t: FixedType, constants: tuple) -> tuple:
    """`modes` as two arrays, for kernels that take two types: four ints (rounding,
    overflow, negative fraction bits, signed) and the constants."""
    return _int_array(modes(t, constants)[:4]), _constant_array(constants)


@lru_cache(maxsize=4096)
def _int_array(values: tuple):
    return (ctypes.c_int * len(values))(*values)


@lru_cache(maxsize=4096)
def _constant_array(constants: tuple):
    return (ctypes.c_double * len(constants))(*constants)


@lru_cache(maxsize=None)
def _library():
    """The loaded kernels, built on first use; None (with one warning) if they cannot be built."""
    try:
        path = _build()
    except (OSError, subprocess.CalledProcessError) as err:
        warnings.warn(f"fxhls: fixed-point CPU kernels unavailable ({err}); using the slower PyTorch path")
        return None
    library = ctypes.CDLL(str(path))
    pointer, size, real, flag = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double, ctypes.c_int
    modes = [flag, flag, flag, flag, pointer]
    signatures = {
        "quantize": (modes + [pointer, pointer, size], None),
        "affine_quantize": (modes + [pointer, pointer, size, size, size, pointer, pointer], None),
        "learned_point_backward": ([pointer] * 4 + [size, real, real], real),
        "affine_backward": ([pointer] * 4 + [size] * 3 + [pointer, pointer, real, real, pointer, pointer], real),
        "affine_relu_quantize": ([pointer] * 7 + [size] * 3 + [pointer, pointer], None),
        "affine_relu_backward": ([pointer] * 5 + [size] * 3 + [pointer] * 6, None),
        "channel_sums": ([pointer, size, size, size, pointer, pointer], None),
        "max_pool_tiles": ([pointer] * 3 + [size] * 5, None),
        "max_pool_tiles_backward": ([pointer] * 3 + [size] * 5, None),
    }
    for name, (arguments, result) in signatures.items():
        for suffix in ("f32", "f64"):
            kernel = getattr(library, f"fxhls_{name}_{suffix}")
            kernel.argtypes, kernel.restype = arguments, result
    return library


def _build() -> Path:
    from fxhls.sim.toolchain import ToolNotFoundError, cxx_compiler

    try:
        compiler = cxx_compiler()
    except ToolNotFoundError as err:
        raise OSError(str(err)) from None
    source = SOURCE.read_bytes()
    key = hashlib.sha256(source + " ".join([compiler, *FLAGS, _machine()]).encode()).hexdigest()[:16]

    def compile_to(output: Path) -> None:
        from fxhls import progress

        with progress.step("compiling fxhls's native fixed-point kernels (once per machine)"):
            subprocess.run([compiler, *FLAGS, str(SOURCE), "-o", str(output)], check=True, capture_output=True)

    return cached_file(default_cache_dir() / "native" / key, "kernels.so", compile_to)


def _machine() -> str:
    """What `-march=native` depends on: the processor's model and feature flags where
    Linux lists them, so a cache folder shared by different machines holds one build each."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.machine() + platform.processor()
    wanted = ("model name", "flags", "Features", "CPU part")
    return platform.machine() + "".join(sorted({line for line in lines if line.startswith(wanted)}))
