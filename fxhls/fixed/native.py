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

_state = {"enabled": os.environ.get("FXHLS_NATIVE", "1") != "0"}
_DTYPES = (torch.float32, torch.float64)


@contextmanager
def disabled() -> Iterator[None]:
    """Within the block, every caller takes its PyTorch path (for tests comparing both)."""
    previous = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = previous


def serves(x: torch.Tensor) -> bool:
    """Whether the kernels can compute on `x` (see the module's docstring)."""
    return _library_for(x) is not None


def quantize_into(x: torch.Tensor, t: FixedType, constants: tuple) -> torch.Tensor | None:
    """`quantize_values(x, t)` in one pass, or None if the kernels cannot serve `x`.
    `constants`: `(scale, lsb, min_code, max_code, wrap_bound, modulus)` as floats."""
    library = _library_for(x)
    if library is None:
        return None
    y = torch.empty_like(x, memory_format=torch.contiguous_format)
    kernel = library.fxhls_quantize_f32 if x.dtype == torch.float32 else library.fxhls_quantize_f64
    kernel(*_modes(t, constants), x.data_ptr(), y.data_ptr(), x.numel())
    return y


def affine_quantize(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, t: FixedType,
                    constants: tuple) -> torch.Tensor | None:
    """`quantize_values(x * scale + shift, t)` in one pass, the affine computed in x's dtype
    (multiply, then add) with one scale and shift per channel (dimension 1 of x); None if
    the kernels cannot serve these tensors."""
    library = _library_for(x, scale, shift)
    if library is None:
        return None
    y = torch.empty_like(x, memory_format=torch.contiguous_format)
    kernel = library.fxhls_affine_quantize_f32 if x.dtype == torch.float32 else library.fxhls_affine_quantize_f64
    kernel(*_modes(t, constants), x.data_ptr(), y.data_ptr(), *_layout(x), scale.data_ptr(), shift.data_ptr())
    return y


def learned_point_backward(x: torch.Tensor, y: torch.Tensor, grad: torch.Tensor, lowest: float, highest: float,
                           needs_grad_x: bool) -> tuple[torch.Tensor | None, float] | None:
    """In one pass, with `inside = (lowest <= x <= highest)`: `grad * inside` (if
    `needs_grad_x`) and the sum of `grad * (y - clamp(x, lowest, highest) * inside)`;
    None if the kernels cannot serve these tensors."""
    library = _library_for(x, y)
    if library is None or grad.dtype != x.dtype:
        return None
    grad = grad.contiguous()
    grad_x = torch.empty_like(grad) if needs_grad_x else None
    kernel = (library.fxhls_learned_point_backward_f32 if x.dtype == torch.float32
              else library.fxhls_learned_point_backward_f64)
    total = kernel(x.data_ptr(), y.data_ptr(), grad.data_ptr(), _pointer(grad_x), x.numel(), lowest, highest)
    return grad_x, total


def affine_backward(x: torch.Tensor, y: torch.Tensor, grad: torch.Tensor, scale: torch.Tensor,
                    shift: torch.Tensor, lowest: float, highest: float, needs_grad_x: bool):
    """`learned_point_backward` for y = quantize(z), z = x * scale + shift (`affine_quantize`),
    in one pass: `(grad_x, grad_scale, grad_shift, total)` with grad_z = grad * inside(z),
    grad_x = grad_z * scale (or None), per-channel sums of grad_z * x and of grad_z (float64),
    and the sum for the binary point; None if the kernels cannot serve these tensors."""
    library = _library_for(x, y, scale, shift)
    if library is None or grad.dtype != x.dtype:
        return None
    grad = grad.contiguous()
    grad_x = torch.empty_like(grad) if needs_grad_x else None
    grad_scale, grad_shift = (torch.zeros(x.shape[1], dtype=torch.float64) for _ in range(2))
    kernel = library.fxhls_affine_backward_f32 if x.dtype == torch.float32 else library.fxhls_affine_backward_f64
    total = kernel(x.data_ptr(), y.data_ptr(), grad.data_ptr(), _pointer(grad_x), *_layout(x), scale.data_ptr(),
                   shift.data_ptr(), lowest, highest, grad_scale.data_ptr(), grad_shift.data_ptr())
    return grad_x, grad_scale, grad_shift, total


def channel_sums(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Per channel (dimension 1), the sums of x and of x * x in float64, in one pass;
    None if the kernels cannot serve x."""
    library = _library_for(x)
    if library is None:
        return None
    sums, squares = (torch.zeros(x.shape[1], dtype=torch.float64) for _ in range(2))
    kernel = library.fxhls_channel_sums_f32 if x.dtype == torch.float32 else library.fxhls_channel_sums_f64
    kernel(x.data_ptr(), *_layout(x), sums.data_ptr(), squares.data_ptr())
    return sums, squares


def _library_for(x: torch.Tensor, *others: torch.Tensor):
    if not _state["enabled"] or x.dtype not in _DTYPES or x.device.type != "cpu":
        return None
    for tensor in (x, *others):
        if not tensor.is_contiguous() or tensor.dtype != x.dtype or tensor.device != x.device:
            return None
        if tensor.requires_grad and torch.is_grad_enabled():
            return None  # the PyTorch path records the operations for autograd
    return _library()


def _modes(t: FixedType, constants: tuple) -> tuple:
    return (ROUNDING_MODES.index(t.rounding), OVERFLOW_MODES.index(t.overflow), t.frac_bits < 0, t.signed,
            _constant_array(constants))


@lru_cache(maxsize=4096)
def _constant_array(constants: tuple):
    return (ctypes.c_double * len(constants))(*constants)


def _layout(x: torch.Tensor) -> tuple[int, int, int]:
    """(batch, channels, positions): x as a contiguous (N, C, ...) array."""
    batch, channels = x.shape[0], x.shape[1] if x.dim() > 1 else 1
    return batch, channels, x.numel() // max(batch * channels, 1)


def _pointer(tensor: torch.Tensor | None) -> int | None:
    return None if tensor is None else tensor.data_ptr()


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
        "channel_sums": ([pointer, size, size, size, pointer, pointer], None),
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
