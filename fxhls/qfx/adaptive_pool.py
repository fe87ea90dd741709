"""`nn.AdaptiveAvgPool2d((h, w))` with an output size other than 1, as `quantize_model` writes it
(global average pooling, output size 1, is `QAdaptiveAvgPool2d`)."""

from __future__ import annotations

from torch import nn

from fxhls.qfx.elementwise import DEFAULT_SUM, QAvgPool2d, _keep_type


class QAdaptiveAvgPool2dTiled(QAvgPool2d):
    """Adaptive average pooling to `output_size` (h, w) (None: the input's size) where, on each
    axis, the output size divides the input's n or n divides it: torch's adaptive windows then
    all have one size, n/h where they tile the input, else 1 (each value repeated h/n times, as
    AlexNet's AdaptiveAvgPool2d((6, 6)) does to a small image). So this is average pooling with
    those windows, then nearest upsampling by those repeats, chosen at each call from the input."""

    def __init__(self, output_size, output=DEFAULT_SUM):
        super().__init__(1, 1, output)
        self.output_size = nn.modules.utils._pair(output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def grid(self, size: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
        """The window (and stride) and the repeats over an input of spatial `size`; a ValueError
        where the output size and the input's do not divide one another."""
        out = tuple(n if k is None else k for n, k in zip(size, self.output_size))
        if any(n % k and k % n for n, k in zip(size, out)):
            raise ValueError(f"QAdaptiveAvgPool2dTiled: output size {self.output_size} of a {size[0]}x{size[1]} "
                             "input; supported: output sizes that divide the input's or that it divides (windows "
                             "of one size)")
        return (tuple(max(n // k, 1) for n, k in zip(size, out)),
                tuple(max(k // n, 1) for n, k in zip(size, out)))

    def forward(self, x):
        self.kernel_size, repeats = self.grid(tuple(x.shape[-2:]))
        self.stride = self.kernel_size
        y = super().forward(x)
        for axis, repeat in zip((2, 3), repeats):
            y = _keep_type(y.repeat_interleave(repeat, dim=axis), y)
        return y
