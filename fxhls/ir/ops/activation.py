"""Element-wise and shape ops: Relu, Sign (binary activation), Flatten."""

from __future__ import annotations

import math

import torch

from fxhls.fixed import BINARY_TYPE


class Relu:
    """max(x, 0); the type is the input's (the quantize after it narrows it)."""

    @staticmethod
    def infer(node, inputs):
        return [(inputs[0].shape, inputs[0].type)]

    @staticmethod
    def execute(node, values):
        return [torch.relu(values[0])]


class Sign:
    """+1 where x >= 0, else -1 (a BNN activation)."""

    @staticmethod
    def infer(node, inputs):
        return [(inputs[0].shape, BINARY_TYPE)]

    @staticmethod
    def execute(node, values):
        x = values[0]
        return [torch.where(x >= 0, 1.0, -1.0).to(x.dtype)]


class Flatten:
    """All dimensions after the batch into one."""

    @staticmethod
    def infer(node, inputs):
        return [((math.prod(inputs[0].shape),), inputs[0].type)]

    @staticmethod
    def execute(node, values):
        return [values[0].flatten(1)]


OPS = {"Relu": Relu, "Sign": Sign, "Flatten": Flatten}

