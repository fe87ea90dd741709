"""Mul and Add of two tensors (broadcasting per sample), exact: the result type is
`fxhls.fixed.result_type` of the operands' types, and the float64 result is exact in it."""

from __future__ import annotations

import numpy as np

from fxhls.fixed import check_exact, result_type


def _broadcast_shape(a, b):
    return tuple(np.broadcast_shapes(a.shape, b.shape))


def _binary(kind, numpy_op):
    class Op:
        @staticmethod
        def infer(node, inputs):
            a, b = inputs
            t = result_type(kind, a.type, b.type) if a.type and b.type else None
            if t is not None:
                check_exact(t, np.float64)
            return [(_broadcast_shape(a, b), t)]

        @staticmethod
        def execute(node, values):
            return [numpy_op(*values)]

    Op.__name__ = kind.capitalize()
    return Op


OPS = {"Mul": _binary("mul", np.multiply), "Add": _binary("add", np.add)}
