"""PRelu: x where x >= 0, else x * slope (ONNX LeakyRelu and PRelu), exact.

Inputs x and slope, a constant that broadcasts to a sample (one value, one per channel,
...). The product is exact (`ap_fixed`'s product type); the result's type holds both x
and x * slope, and the node's `out_type` casts it. On an unsigned x the negative side
never occurs: the result is x.
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import FixedType, check_exact, result_type


def prelu_type(x: FixedType, slope: FixedType) -> FixedType:
    """The type holding every x and every x * slope exactly (x itself when unsigned)."""
    if not x.signed:
        return x
    product = result_type("mul", x, slope)
    frac_bits = max(x.frac_bits, product.frac_bits)
    int_bits = max(x.int_bits, product.int_bits)
    return FixedType(int_bits + frac_bits, int_bits)


class PRelu:
    @staticmethod
    def infer(node, inputs):
        x, slope = inputs
        if tuple(np.broadcast_shapes(slope.shape, x.shape)) != tuple(x.shape):
            raise ValueError(f"PRelu {node.name!r}: its slope of shape {slope.shape} does not broadcast to {x.shape}")
        t = None
        if x.type is not None and slope.type is not None:
            t = prelu_type(x.type, slope.type)
            check_exact(t, np.float64)
        return [(x.shape, t)]

    @staticmethod
    def execute(node, values):
        x, slope = values
        return [np.where(x >= 0, x, x * slope)]


OPS = {"PRelu": PRelu}
