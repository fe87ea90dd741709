"""The one-pass CPU kernels of `kernels.cpp`, built once per machine and called through ctypes.

A quantize in PyTorch is five or more passes over memory; on a CPU these passes,
not the arithmetic, are what a fixed-point training step spends its time on. The
kernels do the same exact steps in one pass. They serve contiguous float32 and
float64 CPU tensors outside autograd; `quantize_into` and `learned_point_backward`
return None for anything else, and when the kernels cannot be built (no C++
compiler) or are turned off (`FXHLS_NATIVE=0`, or `disabled()` in tests), and the
caller takes its PyTorch path, which gives the same values.
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

import torch

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

_state = {"enabled": os.environ.get("FXHLS_NATIVE", "1") != "0", "library": None}
_CTYPES = {torch.float32: ctypes.c_float, torch.float64: ctypes.c_double}


@contextmanager
def disabled() -> Iterator[None]:
    """Within the block, every caller takes its PyTorch path (for tests comparing both)."""
    previous = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = previous


def quantize_into(x: torch.Tensor, t: FixedType, constants: tuple) -> torch.Tensor | None:
    """`quantize_values(x, t)` in one pass, or None if the kernels cannot serve `x`.
    `constants`: `(scale, lsb, min_code, max_code, wrap_bound, modulus)` as floats."""
    library = _library_for(x)
    if library is None:
        return None
    y = torch.empty_like(x, memory_format=torch.contiguous_format)
    kernel = library.fxhls_quantize_f32 if x.dtype == torch.float32 else library.fxhls_quantize_f64
    kernel(ROUNDING_MODES.index(t.rounding), OVERFLOW_MODES.index(t.overflow), x.data_ptr(), y.data_ptr(),
           x.numel(), *constants, t.signed, t.frac_bits < 0)
    return y


def learned_point_backward(x: torch.Tensor, y: torch.Tensor, grad: torch.Tensor, lowest: float, highest: float,
                           needs_grad_x: bool) -> tuple[torch.Tensor | None, float] | None:
    """In one pass, with `inside = (lowest <= x <= highest)`: `grad * inside` (if
    `needs_grad_x`) and the sum of `grad * (y - clamp(x, lowest, highest) * inside)`;
    None if the kernels cannot serve these tensors."""
    library = _library_for(x)
    if library is None or y.dtype != x.dtype or grad.dtype != x.dtype or not y.is_contiguous():
        return None
    grad = grad.contiguous()
    grad_x = torch.empty_like(grad) if needs_grad_x else None
    kernel = (library.fxhls_learned_point_backward_f32 if x.dtype == torch.float32
              else library.fxhls_learned_point_backward_f64)
    total = kernel(x.data_ptr(), y.data_ptr(), grad.data_ptr(), None if grad_x is None else grad_x.data_ptr(),
                   x.numel(), lowest, highest)
    return grad_x, total


def _library_for(x: torch.Tensor):
    if not _state["enabled"] or x.dtype not in _CTYPES or x.device.type != "cpu" or not x.is_contiguous():
        return None
    if x.requires_grad and torch.is_grad_enabled():
        return None  # the PyTorch path records the operations for autograd
    return _library()


@lru_cache(maxsize=None)
def _library():
    """The loaded kernels, built on first use; None (with one warning) if they cannot be built."""
    try:
        path = _build()
    except (OSError, subprocess.CalledProcessError) as err:
        warnings.warn(f"fxhls: fixed-point CPU kernels unavailable ({err}); using the slower PyTorch path")
        return None
    library = ctypes.CDLL(str(path))
    pointer, size, real = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
    for name in ("fxhls_quantize_f32", "fxhls_quantize_f64"):
        kernel = getattr(library, name)
        kernel.argtypes = [ctypes.c_int, ctypes.c_int, pointer, pointer, size] + [real] * 6 + [ctypes.c_int] * 2
        kernel.restype = None
    for name in ("fxhls_learned_point_backward_f32", "fxhls_learned_point_backward_f64"):
        kernel = getattr(library, name)
        kernel.argtypes = [pointer, pointer, pointer, pointer, size, real, real]
        kernel.restype = real
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
