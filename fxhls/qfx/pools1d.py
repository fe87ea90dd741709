"""Pooling over a sequence (N, C, L): QMaxPool1d, QAvgPool1d, QAdaptiveAvgPool1d; and QMean,
the average over one sample axis of a sequence or an image (`x.mean(-1)`).

They compute as their 2-D versions (`elementwise`) over an image of one row, which is how
they export and how the IR builds them: a max selects values (the type is the input's); an
average is the exact window sum times 1/N, quantized to `output`, exact at any input width.
"""

from __future__ import annotations

import torch
from torch import nn

from fxhls.qfx.elementwise import DEFAULT_SUM, _keep_type, _Quantized


class QMaxPool1d(nn.MaxPool1d):
    """Max pooling of a sequence: selects values, so the type is the input's."""

    def forward(self, x):
        _sequence(self, x)
        return _keep_type(super().forward(x), x)


class QAvgPool1d(_Quantized):
    """Average pooling of a sequence: the exact window sum times 1/N (exact for N a power of
    two, else 1/N quantized to `RECIPROCAL_TYPE`), quantized to `output`."""

    def __init__(self, kernel_size: int, stride: int | None = None, output=DEFAULT_SUM):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self._setup_output(output)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"

    def forward(self, x):
        _sequence(self, x)
        windows = self._windows(x.double())
        return self._average(windows.sum(-1), x, self.kernel_size, self._windows)

    def _windows(self, x: torch.Tensor) -> torch.Tensor:
        """The windows of x (N, C, L) as (N, C, positions, values of a window)."""
        return x.unfold(2, self.kernel_size, self.stride)


class QAdaptiveAvgPool1d(_Quantized):
    """Global average pooling of a sequence (output size 1): the exact sum over L times 1/L;
    (N, C, 1), or (N, C) without `keepdim` (as `x.mean(-1)` gives)."""

    def __init__(self, output_size=1, output=DEFAULT_SUM, keepdim: bool = True):
        super().__init__()
        if output_size not in (1, (1,)):
            raise ValueError(f"QAdaptiveAvgPool1d supports output size 1 only, got {output_size!r}")
        self.keepdim = keepdim
        self._setup_output(output)

    def forward(self, x):
        _sequence(self, x)
        sums = x.double().sum(dim=2, keepdim=self.keepdim)
        return self._average(sums, x, x.shape[2], lambda x: x[:, :, None, :])


class QMean(_Quantized):
    """`x.mean(dim)` over one sample axis of a sequence (N, C, L) or an image (N, C, H, W): the
    exact sum over that axis times 1/n, quantized to `output` (the axis kept as 1 with `keepdim`)."""

    def __init__(self, dim: int, output=DEFAULT_SUM, keepdim: bool = False):
        super().__init__()
        self.dim, self.keepdim = dim, keepdim
        self._setup_output(output)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, keepdim={self.keepdim}"

    def axis(self, rank: int) -> int:
        """The axis averaged in a tensor of `rank` axes (batch included); a ValueError unless it is a sample axis."""
        if rank not in (3, 4) or not -rank <= self.dim < rank or self.dim % rank < 2:
            raise ValueError(f"QMean: dim={self.dim} of a tensor of {rank} axes; it averages an axis after the "
                             f"channels of (N, C, L) or (N, C, H, W)")
        return self.dim % rank

    def forward(self, x):
        axis = self.axis(x.dim())
        count = x.shape[axis]
        sums = x.double().sum(dim=axis, keepdim=self.keepdim)

        def windows(t):  # (N, C, positions, the values averaged)
            return t.movedim(axis, -1).reshape(t.shape[0], t.shape[1], -1, count)

        return self._average(sums, x, count, windows)


def _single(value) -> int:
    """An int from a 1-D size given as an int or a 1-tuple."""
    (size,) = nn.modules.utils._single(value)
    return int(size)


def _sequence(layer: nn.Module, x: torch.Tensor) -> None:
    if x.dim() != 3:
        raise ValueError(f"{type(layer).__name__}: its input has {x.dim()} axes; it pools a sequence batch (N, C, L)")
