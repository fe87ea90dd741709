"""Reshape and Transpose of one sample: they move values, never change them (the type is the input's).

Attributes are per sample, the batch dimension left out: Reshape's `shape` is the
full target shape (no -1 or 0 placeholders); Transpose's `perm` permutes the sample's
axes (axis 0 is the first axis after the batch).
"""

from __future__ import annotations

import math


class Reshape:
    @staticmethod
    def infer(node, inputs):
        shape = tuple(node.attrs["shape"])
        if math.prod(shape) != math.prod(inputs[0].shape):
            raise ValueError(f"Reshape {node.name!r}: cannot reshape {inputs[0].shape} to {shape}")
        return [(shape, inputs[0].type)]

    @staticmethod
    def execute(node, values):
        x = values[0]
        return [x.reshape(x.shape[0], *node.attrs["shape"])]


class Transpose:
    @staticmethod
    def infer(node, inputs):
        perm = list(node.attrs["perm"])
        if sorted(perm) != list(range(len(inputs[0].shape))):
            raise ValueError(f"Transpose {node.name!r}: perm {perm} does not permute the axes of {inputs[0].shape}")
        return [(tuple(inputs[0].shape[axis] for axis in perm), inputs[0].type)]

    @staticmethod
    def execute(node, values):
        return [values[0].transpose(0, *(axis + 1 for axis in node.attrs["perm"]))]


OPS = {"Reshape": Reshape, "Transpose": Transpose}
