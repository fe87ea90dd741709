"""Reshape, Transpose and Concat of samples: they move values, never change them (the type is
the input's; Concat's is the least type that holds every value of its inputs,
`fxhls.fixed.common_type`: the inputs' type when they have one).

Attributes are per sample, the batch dimension left out: Reshape's `shape` is the
full target shape (no -1 or 0 placeholders); Transpose's `perm` permutes the sample's
axes (axis 0 is the first axis after the batch); Concat's `axis` is a sample axis too.
"""

from __future__ import annotations

import math

import numpy as np

from fxhls.fixed import common_type


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


class Concat:
    @staticmethod
    def infer(node, inputs):
        axis, first = node.attrs["axis"], inputs[0]
        rest = {t.shape[:axis] + t.shape[axis + 1:] for t in inputs}
        if not 0 <= axis < len(first.shape) or len(rest) != 1:
            raise ValueError(f"Concat {node.name!r}: cannot join shapes {[t.shape for t in inputs]} on axis {axis}")
        joined = sum(t.shape[axis] for t in inputs)
        types = [t.type for t in inputs]
        joined_type = None if None in types else common_type(types)
        return [(first.shape[:axis] + (joined,) + first.shape[axis + 1:], joined_type)]

    @staticmethod
    def execute(node, values):
        return [np.concatenate(values, axis=node.attrs["axis"] + 1)]


OPS = {"Reshape": Reshape, "Transpose": Transpose, "Concat": Concat}
