"""Upsample and Pad: ops that place an image's values on a larger grid, never change them
(the type is the input's; 0, which Pad adds, is a value of every type).

- Upsample: nearest-neighbour upsampling of an image (C, H, W) by integer factors
  `scales` = [sh, sw]: output pixel (h, w) is input pixel (h // sh, w // sw), so each
  pixel is repeated sw times along its row and each row sh times (ONNX Resize and
  Upsample in mode nearest, where their coordinates give these pixels).
- Pad: zeros around a sample; `pads` = [begin of each sample axis..., end of each...]
  (ONNX's order, the batch axis left out).
"""

from __future__ import annotations

import numpy as np


class Upsample:
    @staticmethod
    def infer(node, inputs):
        shape = inputs[0].shape
        sh, sw = node.attrs["scales"]
        if len(shape) != 3:
            raise ValueError(f"Upsample {node.name!r}: upsamples an image (C, H, W), got shape {shape}")
        return [((shape[0], shape[1] * sh, shape[2] * sw), inputs[0].type)]

    @staticmethod
    def execute(node, values):
        sh, sw = node.attrs["scales"]
        return [values[0].repeat(sh, axis=2).repeat(sw, axis=3)]


class Pad:
    @staticmethod
    def infer(node, inputs):
        shape, pads = inputs[0].shape, node.attrs["pads"]
        if len(pads) != 2 * len(shape) or min(pads) < 0:
            raise ValueError(f"Pad {node.name!r}: pads {pads} are not a begin and an end per axis of {shape}")
        rank = len(shape)
        return [(tuple(n + pads[i] + pads[rank + i] for i, n in enumerate(shape)), inputs[0].type)]

    @staticmethod
    def execute(node, values):
        pads, rank = node.attrs["pads"], values[0].ndim - 1
        return [np.pad(values[0], [(0, 0)] + [(pads[i], pads[rank + i]) for i in range(rank)])]


OPS = {"Upsample": Upsample, "Pad": Pad}
