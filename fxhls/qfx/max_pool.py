"""Max pooling over windows that tile the input (stride = kernel, no padding or dilation)
in fxhls's native kernels: torch's `max_pool2d`, several times faster on CPU.

torch's contiguous (NCHW) CPU kernel walks each window in a scalar loop: 4 ms of the
bench CNN's 27 ms training step for one 2x2 pool. The native kernel gives torch's result:
the same maxima, and the gradient to the position torch's kernel picks (the first maximum
in row-major window order; a NaN wins, the last NaN of a window the one picked), which
matters for quantized values, where ties are common.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fxhls.fixed import native, native_tensors


def max_pool2d(x: torch.Tensor, kernel_size, stride, padding, dilation, ceil_mode) -> torch.Tensor:
    """`F.max_pool2d(x, ...)` (no indices returned): equal values and gradient."""
    kernel_size = tuple(kernel_size)
    tiling = tuple(stride) == kernel_size and tuple(padding) == (0, 0) and tuple(dilation) == (1, 1)
    if tiling and not ceil_mode and _native_serves(x, kernel_size):
        return _TileMax.apply(x, kernel_size)
    return F.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)


def _native_serves(x: torch.Tensor, kernel_size: tuple[int, int]) -> bool:
    """Whether `native.max_pool_tiles` serves x (torch's own op pools a 3-D or 4-D input only)."""
    return (x.dim() in (3, 4) and kernel_size[0] * kernel_size[1] <= native_tensors.MAX_POOL_WINDOW
            and native.serves(x.detach()))


class _TileMax(torch.autograd.Function):
    """Max pooling over tiling windows in the native kernels (which `_native_serves` has checked)."""

    @staticmethod
    def forward(ctx, x, kernel_size):
        pooled, picked = native.max_pool_tiles(x, kernel_size)
        ctx.save_for_backward(picked)
        ctx.kernel_size, ctx.input_shape = kernel_size, x.shape
        return pooled

    @staticmethod
    def backward(ctx, grad):
        (picked,) = ctx.saved_tensors
        return native.max_pool_tiles_backward(grad, picked, ctx.input_shape, ctx.kernel_size), None
