"""conv2d of a one-channel input whose input gradient is a matmul and a fold.

oneDNN computes the input gradient of such a convolution (a transposed convolution
to one channel) many times slower than the convolution itself; the first layer of a
grayscale-image network is one, and QFX needs its input gradient to learn the input
quantizer's binary point. Its adjoint form, fold(W^T @ grad), is the same sum.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def conv2d(x: torch.Tensor, w: torch.Tensor, stride, padding) -> torch.Tensor:
    """F.conv2d(x, w, None, stride, padding); when x has one channel on a CPU and needs
    a gradient, that gradient goes by `fold` instead of a transposed convolution."""
    if x.shape[1] == 1 and x.device.type == "cpu" and x.requires_grad and not isinstance(padding, str):
        return _FoldInputGradient.apply(x, w, tuple(stride), tuple(padding))
    return F.conv2d(x, w, None, stride, padding)


class _FoldInputGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, stride, padding):
        ctx.save_for_backward(x, w)
        ctx.stride, ctx.padding = stride, padding
        return F.conv2d(x, w, None, stride, padding)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[1]:
            grad_w = torch.ops.aten.convolution_backward(
                grad, x, w, None, ctx.stride, ctx.padding, [1, 1], False, [0, 0], 1, [False, True, False]
            )[1]
        if ctx.needs_input_grad[0]:
            columns = torch.matmul(w.flatten(1).T, grad.flatten(2))  # (N, kh*kw, out_h*out_w)
            grad_x = F.fold(columns, x.shape[2:], w.shape[2:], padding=ctx.padding, stride=ctx.stride)
        return grad_x, grad_w, None, None
