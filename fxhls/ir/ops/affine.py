"""Affine: x * scale + shift per channel (the fixed-point BatchNorm), exact.

Inputs x, scale, shift; scale and shift are constants of shape (C, 1, 1) for an
image or (C,) for a vector. The product and the sum are exact (`ap_fixed` result
types); the node's `out_type` casts the result.
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import check_exact, result_type


class Affine:
    @staticmethod
    def infer(node, inputs):
        x, scale, shift = inputs
        t = None
        if x.type is not None:
            t = result_type("add", result_type("mul", x.type, scale.type), shift.type)
            check_exact(t, np.float64)
        return [(x.shape, t)]

    @staticmethod
    def execute(node, values):
        x, scale, shift = values
        return [x * scale + shift]


OPS = {"Affine": Affine}
