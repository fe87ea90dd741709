"""The sliding windows of the RTL's convolutions and pools (templates/rtl/fxhls_window.v):
how many image rows the line buffer keeps, and how a layer's SIMD splits into channels
and kernel positions per beat.
"""

from __future__ import annotations

import math


def line_buffer_rows(height: int, kernel: int, stride: int, pad: int) -> int:
    """Rows of fxhls_window's line buffer (a power of two) for an image of `height` rows and
    a window of `kernel` rows moving by `stride` with `pad` rows of zeros above and below:
    enough that the rows the next row of windows needs (`kernel + stride`), or the rows
    the next image's first windows need on top of those this image's last windows read,
    can arrive while a row of windows is read, so neither side waits for the other
    beyond its own pace."""
    last_top = ((height + 2 * pad - kernel) // stride) * stride - pad  # the last windows' top row
    first_rows = max(min(kernel - pad, height), 1)  # the rows the first windows need
    needed = max(kernel + stride, height - max(last_top, 0) + first_rows)
    return 1 << (needed - 1).bit_length()


def window_lanes(simd: int, channels: int, kernel_positions: int) -> tuple[int, int] | None:
    """(channel lanes, taps): an input of `simd` values per beat read by a window of
    `kernel_positions` taps over `channels` channels is `taps` kernel positions of
    `channel lanes` channels each, the channel lanes as many as divide both; None where
    the taps do not divide the kernel."""
    lanes = math.gcd(simd, channels)
    taps = simd // lanes
    return (lanes, taps) if kernel_positions % taps == 0 else None
