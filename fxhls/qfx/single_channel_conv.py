"""conv2d of a one-channel input as a matmul over its unfolded windows.

oneDNN computes convolutions of one input channel (the first layer of a
grayscale-image network) many times slower than the same sums as a matmul: on a
64x1x28x28 batch and 16 3x3 filters, 3.3 ms forward against 0.9 ms for unfold and
matmul, and 6.2 ms for the input gradient (a transposed convolution to one channel,
which QFX needs to learn the input quantizer's binary point) against 0.7 ms for its
adjoint form, fold(W^T @ grad). The weight gradient stays oneDNN's, which is fast.
The sums are the same sums: where they are exact (as QFX arranges), so is the result.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def conv2d(x: torch.Tensor, w: torch.Tensor, stride, padding) -> torch.Tensor:
    """F.conv2d(x, w, None, stride, padding); by matmuls when x has one channel on a CPU."""
    if x.shape[1] == 1 and x.device.type == "cpu" and not isinstance(padding, str):
        return _SingleChannelConv.apply(x, w, tuple(stride), tuple(padding))
    return F.conv2d(x, w, None, stride, padding)


class _SingleChannelConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, stride, padding):
        ctx.save_for_backward(x, w)
        ctx.stride, ctx.padding = stride, padding
        out_h = (x.shape[2] + 2 * padding[0] - w.shape[2]) // stride[0] + 1
        out_w = (x.shape[3] + 2 * padding[1] - w.shape[3]) // stride[1] + 1
        windows = F.unfold(x, w.shape[2:], padding=padding, stride=stride)  # (N, kh*kw, out_h*out_w)
        return torch.matmul(w.flatten(1), windows).view(x.shape[0], w.shape[0], out_h, out_w)

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
