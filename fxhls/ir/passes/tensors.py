"""Helpers for passes that make constants: values per channel, a tensor under a fresh name."""

from __future__ import annotations

import numpy as np

from fxhls.fixed import FixedType

from ..graph import Graph, Tensor


def per_channel(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """`values` as one value per channel, shape (C,), if they broadcast to a sample of
    `shape` (channels first) without growing it and are constant within each channel;
    else None."""
    if tuple(np.broadcast_shapes(values.shape, shape)) != tuple(shape):
        return None
    columns = np.broadcast_to(values, shape).reshape(shape[0], -1)
    return columns[:, 0] if (columns == columns[:, :1]).all() else None


def new_tensor(graph: Graph, stem: str, data: np.ndarray | None = None, t: FixedType | None = None,
               facts: dict | None = None) -> str:
    """Add a tensor (a constant when `data` is given) named `stem`, or `stem` with
    underscores appended where that name is taken; returns its name."""
    name = stem
    while name in graph.tensors:
        name += "_"
    graph.tensors[name] = Tensor(name, None if data is None else tuple(data.shape), t, data, facts or {})
    return name
