"""Element-wise and shape ops: Relu, Sign (binary activation), Flatten."""

from __future__ import annotations

import math

import numpy as np

from fxhls.fixed import BINARY_TYPE


class Relu:
    """max(x, 0); the type is the input's (the quantize after it narrows it)."""

    @staticmethod
    def infer(node, inputs):
        return [(inputs[0].shape, inputs[0].type)]

    @staticmethod
    def execute(node, values):
        return [np.maximum(values[0], 0.0)]


class Sign:
    """+1 where x >= 0, else -1 (a BNN activation)."""

    @staticmethod
    def infer(node, inputs):
        return [(inputs[0].shape, BINARY_TYPE)]

    @staticmethod
    def execute(node, values):
        return [np.where(values[0] >= 0, 1.0, -1.0)]


class Flatten:
    """All dimensions after the batch into one."""

    @staticmethod
    def infer(node, inputs):
        return [((math.prod(inputs[0].shape),), inputs[0].type)]

    @staticmethod
    def execute(node, values):
        x = values[0]
        return [x.reshape(x.shape[0], math.prod(x.shape[1:]))]


OPS = {"Relu": Relu, "Sign": Sign, "Flatten": Flatten}

