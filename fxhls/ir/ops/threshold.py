"""Threshold: a binary activation from per-channel comparisons (a BNN's BatchNorm and Sign).

Inputs x and thresholds, a constant of shape (C,), C being x's channel count (the
first dimension of a sample); attribute `direction`, C values +1 or -1. Channel c
outputs +1 where x >= thresholds[c] (direction +1) or where x <= thresholds[c]
(direction -1), else -1. A channel whose output never changes has its threshold
beyond the values x can take. The output type is `BINARY_TYPE`.
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import BINARY_TYPE


class Threshold:
    @staticmethod
    def infer(node, inputs):
        x, thresholds = inputs
        channels = x.shape[0]
        if tuple(thresholds.shape) != (channels,) or len(node.attrs["direction"]) != channels:
            raise ValueError(f"node {node.name!r}: Threshold needs {channels} thresholds and directions "
                             f"(one per channel), got shape {thresholds.shape} and {len(node.attrs['direction'])}")
        if not set(node.attrs["direction"]) <= {1, -1}:
            raise ValueError(f"node {node.name!r}: Threshold directions are +1 or -1, got {node.attrs['direction']}")
        return [(x.shape, BINARY_TYPE)]

    @staticmethod
    def execute(node, values):
        x, thresholds = values
        per_channel = (1, -1) + (1,) * (x.ndim - 2)
        thresholds = thresholds.reshape(per_channel)
        rising = np.array(node.attrs["direction"]).reshape(per_channel) > 0
        plus = np.where(rising, x >= thresholds, x <= thresholds)
        return [np.where(plus, 1.0, -1.0)]


OPS = {"Threshold": Threshold}
