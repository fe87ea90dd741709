"""`nn.AdaptiveAvgPool2d((h, w))` with an output size other than 1, as `quantize_model` writes it
(global average pooling, output size 1, is `QAdaptiveAvgPool2d`)."""

from __future__ import annotations

from torch import nn

from fxhls.qfx.elementwise import DEFAULT_SUM, QAvgPool2d


class QAdaptiveAvgPool2dTiled(QAvgPool2d):
    """Adaptive average pooling to `output_size` (h, w) (None: the input's size) where it divides
    the input's size H x W: torch's adaptive windows then all have the size (H/h, W/w) and tile
    the input, so this is average pooling with those windows, chosen at each call from the input."""

    def __init__(self, output_size, output=DEFAULT_SUM):
        super().__init__(1, 1, output)
        self.output_size = nn.modules.utils._pair(output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def window(self, size: tuple[int, int]) -> tuple[int, int]:
        """The window (and stride) over an input of spatial `size`; a ValueError where the
        output size does not divide it."""
        out = tuple(n if k is None else k for n, k in zip(size, self.output_size))
        if any(n % k for n, k in zip(size, out)):
            raise ValueError(f"QAdaptiveAvgPool2dTiled: output size {self.output_size} of a {size[0]}x{size[1]} "
                             "input; supported: output sizes that divide the input's (windows of one size)")
        return tuple(n // k for n, k in zip(size, out))

    def forward(self, x):
        self.kernel_size = self.stride = self.window(tuple(x.shape[-2:]))
        return super().forward(x)
