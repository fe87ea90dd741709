"""Binarized (BNN) values: -1 and +1, with the straight-through gradient of XNOR-Net/FracBNN."""

from __future__ import annotations

import torch
from torch import nn

from fxhls.fixed import BINARY_TYPE
from fxhls.qfx.typed import tag


def binary_sign(x: torch.Tensor) -> torch.Tensor:
    """-1 or +1 (zero counts as +1); the gradient passes where |x| <= 1, zero outside."""
    return _BinarySign.apply(x)


class _BinarySign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1)


class QSign(nn.Module):
    """Binary activation: sign(x) in {-1, +1}. A BatchNorm before it folds into integer
    thresholds in hardware."""

    output_type = BINARY_TYPE

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return tag(binary_sign(x), BINARY_TYPE)
