"""The windows a 2-D convolution or pooling reads, as a view of the batch (no copy but the padding)."""

from __future__ import annotations

import numpy as np


def conv_out_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """Positions of a window of `kernel` values moving by `stride` over `size` values plus
    `pad` zeros on each side; a ValueError when the window cannot move or does not fit."""
    if stride < 1 or kernel < 1 or pad < 0:
        raise ValueError(f"a window of {kernel} moving by {stride} with {pad} padding: the kernel and the stride "
                         f"must be at least 1 and the padding at least 0")
    if size + 2 * pad < kernel:
        raise ValueError(f"a window of {kernel} does not fit in {size} values padded by {pad} on each side")
    return (size + 2 * pad - kernel) // stride + 1


# Ops that walk their image (input 0) in windows, with zero padding (`pads`).
WINDOW_OPS = ("Conv", "MaxPool", "AveragePool")


def window_kernel(graph, node) -> tuple[int, int]:
    """The (rows, columns) of a window op's window: a Conv's weights', a pool's `kernel_shape`."""
    if node.op == "Conv":
        return tuple(graph.tensor(node.inputs[1]).shape[2:])
    return tuple(node.attrs["kernel_shape"])


def window_pads(node) -> tuple[int, int]:
    """The zero padding (rows, columns on each side) a Conv's, MaxPool's or AveragePool's
    window walks over: the node's `pads`; a pool without that attribute has none."""
    pads = node.attrs.get("pads", (0, 0))
    return int(pads[0]), int(pads[1])


def windows(x: np.ndarray, kernel, strides, pads=(0, 0)) -> np.ndarray:
    """The windows of x (N, C, H, W), zero padded by `pads` (rows, columns) on each side:
    shape (N, C, OH, OW, KH, KW), window (oh, ow) starting at row oh * strides[0] and
    column ow * strides[1] of the padded image."""
    (ph, pw), (sh, sw) = pads, strides
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return np.lib.stride_tricks.sliding_window_view(x, tuple(kernel), axis=(2, 3))[:, :, ::sh, ::sw]
