"""ArgMax over the channels of a sample: the index of the largest value of a vector, or of
each pixel's channels; ties go to the lowest index (numpy's and ONNX's ArgMax with
select_last_index=0, ONNX's TopK with k=1).

The class axis stays, of size 1 (a vector (C,) gives (1,), an image (C, H, W) gives
(1, H, W)): the hardware streams one value per pixel. The type is the unsigned integer
`index_type(C)`, ap_ufixed<B,B> with B = ceil(log2 C) (at least 1).
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import FixedType


def index_type(classes: int) -> FixedType:
    """The unsigned integer type of an index into `classes` values."""
    bits = max((classes - 1).bit_length(), 1)
    return FixedType(bits, bits, False)


def is_index_output(graph) -> bool:
    """Whether `graph`'s output is an ArgMax's: hosts (the emulator, the driver) return int64 indices."""
    producer = graph.producer(graph.outputs[0])
    return producer is not None and producer.op == "ArgMax"


class ArgMax:
    @staticmethod
    def infer(node, inputs):
        shape = inputs[0].shape
        if len(shape) not in (1, 3):
            raise ValueError(f"an ArgMax over a tensor of shape {list(shape)}; supported: over the values of a "
                             f"vector (C,) or the channels of each pixel of an image (C, H, W)")
        return [((1, *shape[1:]), index_type(shape[0]))]

    @staticmethod
    def execute(node, values):
        return [np.argmax(values[0], axis=1)[:, None].astype(np.float64)]


OPS = {"ArgMax": ArgMax}
