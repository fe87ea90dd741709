"""MultiThreshold: the requantization of an exact value to the codes of a float-scaled quantizer.

Inputs x (an exact value: an accumulator, or codes) and thresholds, a constant of shape
(C, L), C being x's channel count (the first dimension of a sample). Attributes: the
output codes' type (`type_attrs`: an integer type), `base` (the smallest code) and
`direction`, C values +1 or -1. Channel c outputs base + the number of k with
x >= thresholds[c, k] (direction +1) or x <= thresholds[c, k] (direction -1): FINN's
MultiThreshold idea. A threshold x never reaches lies one step of x's grid beyond its
range. `fxhls.onnx.float_scaled` derives the thresholds from a float chain.
"""

from __future__ import annotations

import numpy as np

from .quantize import node_type


class MultiThreshold:
    @staticmethod
    def infer(node, inputs):
        x, thresholds = inputs
        channels = x.shape[0]
        if len(thresholds.shape) != 2 or thresholds.shape[0] != channels or len(node.attrs["direction"]) != channels:
            raise ValueError(f"node {node.name!r}: MultiThreshold needs thresholds of shape ({channels}, L) and "
                             f"{channels} directions, got {thresholds.shape} and {len(node.attrs['direction'])}")
        return [(x.shape, node_type(node.attrs))]

    @staticmethod
    def execute(node, values):
        x, thresholds = values
        codes = np.empty_like(x)
        levels = thresholds.shape[1]
        for c, direction in enumerate(node.attrs["direction"]):
            ascending = np.sort(thresholds[c])
            if direction > 0:
                codes[:, c] = np.searchsorted(ascending, x[:, c], side="right")
            else:
                codes[:, c] = levels - np.searchsorted(ascending, x[:, c], side="left")
        return [codes + node.attrs["base"]]


OPS = {"MultiThreshold": MultiThreshold}
