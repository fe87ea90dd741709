"""Layers that place values on a larger grid and never change them: QUpsample and QPad.

The type is the input's (0, which QPad adds, is a value of every type). They export as ONNX
Resize (nearest, asymmetric coordinates, floor: output pixel i is input pixel i // scale)
and Pad (constant 0), which the IR reads as its Upsample and Pad ops; the hardware folds a
zero Pad read by a Conv into that Conv's padding where both sides match.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fxhls.qfx.elementwise import _keep_type


class QUpsample(nn.Module):
    """Nearest-neighbour upsampling by integer `scale_factor`s (one, or one per spatial axis)
    of an (N, C, H, W) image or an (N, C, L) sequence: each value repeated."""

    def __init__(self, scale_factor):
        super().__init__()
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,)
        if not factors or any(isinstance(f, bool) or int(f) != f or f < 1 for f in factors):
            raise ValueError(f"QUpsample: scale_factor={scale_factor!r}; supported: integers of at least 1")
        self.scale_factor = tuple(int(f) for f in factors)

    def extra_repr(self) -> str:
        return f"scale_factor={self.scale_factor}"

    def scales(self, spatial_axes: int) -> tuple[int, ...]:
        """The factor of each of `spatial_axes` axes (one factor serves them all)."""
        if len(self.scale_factor) == 1:
            return self.scale_factor * spatial_axes
        if len(self.scale_factor) != spatial_axes:
            raise ValueError(f"QUpsample: {len(self.scale_factor)} scale factors for {spatial_axes} spatial axes")
        return self.scale_factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() not in (3, 4):
            raise ValueError(f"QUpsample: its input has {x.dim()} axes; supported: (N, C, L) and (N, C, H, W)")
        y = x
        for axis, factor in enumerate(self.scales(x.dim() - 2), start=2):
            y = y.repeat_interleave(factor, dim=axis)
        return _keep_type(y, x)


class QPad(nn.Module):
    """Zeros around the last axes: `padding` in F.pad's order (left, right, top, bottom, ...:
    a begin and an end per axis, the last axis first), all non-negative."""

    def __init__(self, padding):
        super().__init__()
        padding = tuple(int(p) for p in padding)
        if len(padding) % 2 or any(p < 0 for p in padding):
            raise ValueError(f"QPad: padding={padding}; supported: a non-negative begin and end per axis")
        self.padding = padding

    def extra_repr(self) -> str:
        return f"padding={self.padding}"

    def onnx_pads(self, rank: int) -> list[int]:
        """ONNX Pad's `pads` for a tensor of `rank` axes (batch included): every begin, then every end."""
        if len(self.padding) // 2 > rank - 1:
            raise ValueError(f"QPad: padding={self.padding} pads more axes than a sample of {rank - 1} has")
        pads = [0] * (2 * rank)
        for i in range(len(self.padding) // 2):
            axis = rank - 1 - i
            pads[axis], pads[rank + axis] = self.padding[2 * i], self.padding[2 * i + 1]
        return pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.onnx_pads(x.dim())  # its refusal first
        return _keep_type(F.pad(x, self.padding), x)
