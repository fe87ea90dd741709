"""The native kernels' entry points for PyTorch tensors (see `fxhls.fixed.native`).

They serve contiguous float32 and float64 CPU tensors outside autograd and return None
for anything else (the caller then takes its PyTorch path). `fxhls.fixed.native`
reaches them by name, so callers write `native.quantize_into(...)`.

A training step quantizes to the same few types again and again, a small tensor as
often as a large one: `kernels_for` hands out, per type and dtype, the kernels with
the type's arguments converted once (`TypeKernels`), so that a call costs little
more than its pass over memory.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache

import torch

from .formats import kernel_constants
from .native import loaded_library, mode_arrays, modes
from .types import FixedType

_DTYPES = (torch.float32, torch.float64)
MAX_POOL_WINDOW = 256  # positions in a max-pool window: `max_pool_tiles` keeps the picked one in a uint8


def serves(x: torch.Tensor) -> bool:
    """Whether the kernels can compute on `x` (see the module's docstring)."""
    return _library_for(x) is not None


class TypeKernels:
    """The one-pass kernels for one fixed-point type `t` on one dtype, with `t`'s modes and
    constants (`formats.kernel_constants`) bound. Got from `kernels_for`, which has checked
    the first tensor; the others must be contiguous CPU tensors of that dtype too."""

    def __init__(self, library, t: FixedType, dtype: torch.dtype):
        suffix = "f32" if dtype == torch.float32 else "f64"
        self.dtype = dtype
        self._modes = modes(t, kernel_constants(t, dtype))
        self._quantize = getattr(library, f"fxhls_quantize_{suffix}")
        self._point_backward = getattr(library, f"fxhls_learned_point_backward_{suffix}")

    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        """`quantize_values(x, t)` in one pass (a new tensor)."""
        y = torch.empty_like(x, memory_format=torch.contiguous_format)
        self._quantize(*self._modes, x.data_ptr(), y.data_ptr(), x.numel())
        return y

    def learned_point_backward(self, x: torch.Tensor, y: torch.Tensor, grad: torch.Tensor, lowest: float,
                               highest: float, needs_grad_x: bool,
                               in_place: bool = False) -> tuple[torch.Tensor | None, float] | None:
        """In one pass, with `inside = (lowest <= x <= highest)`: `grad * inside` (if
        `needs_grad_x`; written over `grad` with `in_place`, for a caller whose buffer it is)
        and the sum of `grad * (y - clamp(x, lowest, highest) * inside)`; None if `grad` is
        not a CPU tensor of the kernels' dtype."""
        if grad.dtype != self.dtype or not grad.is_cpu:
            return None
        if not grad.is_contiguous():
            grad, in_place = grad.contiguous(), True  # a copy of our own
        grad_x = (grad if in_place else torch.empty_like(grad)) if needs_grad_x else None
        total = self._point_backward(x.data_ptr(), y.data_ptr(), grad.data_ptr(), _pointer(grad_x), x.numel(),
                                     lowest, highest)
        return grad_x, total


def kernels_for(x: torch.Tensor, t: FixedType) -> TypeKernels | None:
    """The kernels for type `t` on `x`'s dtype, or None if they cannot serve `x`."""
    library = _library_for(x)
    return None if library is None else _type_kernels(library, t, x.dtype)


@lru_cache(maxsize=4096)
def _type_kernels(library, t: FixedType, dtype: torch.dtype) -> TypeKernels:
    return TypeKernels(library, t, dtype)


def quantize_into(x: torch.Tensor, t: FixedType) -> torch.Tensor | None:
    """`quantize_values(x, t)` in one pass, or None if the kernels cannot serve `x`."""
    kernels = kernels_for(x, t)
    return None if kernels is None else kernels.quantize(x)


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
    kernel(*modes(t, constants), x.data_ptr(), y.data_ptr(), *_layout(x), scale.data_ptr(), shift.data_ptr())
    return y


def affine_backward(x: torch.Tensor, y: torch.Tensor, grad: torch.Tensor, scale: torch.Tensor,
                    shift: torch.Tensor, lowest: float, highest: float, needs_grad_x: bool):
    """`TypeKernels.learned_point_backward` for y = quantize(z), z = x * scale + shift (`affine_quantize`),
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


def affine_relu_quantize(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, t1: FixedType,
                         t2: FixedType) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(y1, y2): y1 = `affine_quantize(x, scale, shift, t1)` and y2 = `quantize_values(y1, t2)`,
    y2's pass reading y1 back from the cache, one channel at a time; None if the kernels
    cannot serve these tensors."""
    library = _library_for(x, scale, shift)
    if library is None:
        return None
    y1, y2 = (torch.empty_like(x, memory_format=torch.contiguous_format) for _ in range(2))
    if x.dtype == torch.float32:
        kernel = library.fxhls_affine_relu_quantize_f32
    else:
        kernel = library.fxhls_affine_relu_quantize_f64
    kernel(*_type_arguments(t1, x.dtype), *_type_arguments(t2, x.dtype), x.data_ptr(), y1.data_ptr(),
           y2.data_ptr(), *_layout(x), scale.data_ptr(), shift.data_ptr())
    return y1, y2


def affine_relu_backward(x: torch.Tensor, y1: torch.Tensor, y2: torch.Tensor, grad: torch.Tensor,
                         scale: torch.Tensor, shift: torch.Tensor, bounds: tuple[float, float, float, float],
                         needs_grad_x: bool):
    """The backward pass of `affine_relu_quantize`: y2's learned-point backward (`inside`
    between bounds[2] and bounds[3]) into y1's gradient, then `affine_backward` (bounds[0]
    and bounds[1]) from it, a channel at a time, the sums in the order of the two separate
    passes. Returns `(grad_x or None, grad_scale, grad_shift, total1, total2)`, the totals
    the binary points' sums of the affine's and y2's quantizer; None if the kernels cannot
    serve these tensors."""
    library = _library_for(x, y1, y2, scale, shift)
    if library is None or grad.dtype != x.dtype:
        return None
    grad = grad.contiguous()
    grad_x = torch.empty_like(grad) if needs_grad_x else None
    grad_scale, grad_shift = (torch.zeros(x.shape[1], dtype=torch.float64) for _ in range(2))
    totals = (ctypes.c_double * 2)()
    if x.dtype == torch.float32:
        kernel = library.fxhls_affine_relu_backward_f32
    else:
        kernel = library.fxhls_affine_relu_backward_f64
    kernel(x.data_ptr(), y1.data_ptr(), y2.data_ptr(), grad.data_ptr(), _pointer(grad_x), *_layout(x),
           scale.data_ptr(), shift.data_ptr(), _bound_array(bounds), grad_scale.data_ptr(), grad_shift.data_ptr(),
           totals)
    return grad_x, grad_scale, grad_shift, totals[0], totals[1]


@lru_cache(maxsize=4096)
def _type_arguments(t: FixedType, dtype: torch.dtype) -> tuple:
    return mode_arrays(t, kernel_constants(t, dtype))


@lru_cache(maxsize=4096)
def _bound_array(bounds: tuple[float, float, float, float]):
    return (ctypes.c_double * 4)(*bounds)


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


def max_pool_tiles(x: torch.Tensor, kernel_size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor] | None:
    """`F.max_pool2d(x, kernel_size)` of a (..., H, W) tensor, windows tiling it, in one
    pass: the maxima and, per window, the position of the one torch picks (uint8, row-major
    in the window); None if the kernels cannot serve x or a window has over 256 positions.
    Outside autograd: x's caller records the operation (`fxhls.qfx.max_pool`)."""
    library = _library_for(x)
    (height, width), (kernel_height, kernel_width) = x.shape[-2:], kernel_size
    if library is None or kernel_height * kernel_width > MAX_POOL_WINDOW:
        return None
    shape = (*x.shape[:-2], height // kernel_height, width // kernel_width)
    y, picked = torch.empty(shape, dtype=x.dtype), torch.empty(shape, dtype=torch.uint8)
    kernel = library.fxhls_max_pool_tiles_f32 if x.dtype == torch.float32 else library.fxhls_max_pool_tiles_f64
    kernel(x.data_ptr(), y.data_ptr(), picked.data_ptr(), x.numel() // max(height * width, 1), height, width,
           kernel_height, kernel_width)
    return y, picked


def max_pool_tiles_backward(grad: torch.Tensor, picked: torch.Tensor, input_shape: torch.Size,
                            kernel_size: tuple[int, int]) -> torch.Tensor | None:
    """The gradient of `max_pool_tiles`'s input: each window's `grad` to its picked
    position (a new tensor); None if the kernels cannot serve `grad`."""
    grad = grad.contiguous()
    library = _library_for(grad)
    if library is None:
        return None
    grad_x = torch.empty(input_shape, dtype=grad.dtype)
    height, width = input_shape[-2:]
    if grad.dtype == torch.float32:
        kernel = library.fxhls_max_pool_tiles_backward_f32
    else:
        kernel = library.fxhls_max_pool_tiles_backward_f64
    kernel(grad.data_ptr(), picked.data_ptr(), grad_x.data_ptr(), grad_x.numel() // max(height * width, 1), height,
           width, *kernel_size)
    return grad_x


def _library_for(x: torch.Tensor, *others: torch.Tensor):
    if x.dtype not in _DTYPES or x.device.type != "cpu":
        return None
    for tensor in (x, *others):
        if not tensor.is_contiguous() or tensor.dtype != x.dtype or tensor.device != x.device:
            return None
        if tensor.requires_grad and torch.is_grad_enabled():
            return None  # the PyTorch path records the operations for autograd
    return loaded_library()


def _layout(x: torch.Tensor) -> tuple[int, int, int]:
    """(batch, channels, positions): x as a contiguous (N, C, ...) array."""
    batch, channels = x.shape[0], x.shape[1] if x.dim() > 1 else 1
    return batch, channels, x.numel() // max(batch * channels, 1)


def _pointer(tensor: torch.Tensor | None) -> int | None:
    return None if tensor is None else tensor.data_ptr()
