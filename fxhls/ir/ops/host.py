"""The host edges of a float-scaled model: float32 work the host does, as ONNX computes it.

- HostQuantize: the graph input (float32) through the float work before the first
  quantizer (element-wise steps; where the model's first layer reads the float input, that
  Gemm, MatMul or Conv and the steps around it), then that quantizer's codes less `offset`
  (its zero point, where that is one integer). Attributes `chain` ({"steps"}, or
  {"input_steps", "dense" or "conv", "steps"}), `quant` (see `fxhls.fixed.float32`),
  `offset`, and the integer type of the result (`type_attrs`).
- HostFloat: an exact value (an accumulator or codes) through a float chain
  ({"rescale", "dense", "steps"}) to float32 results: the float work after the last
  integer result. Its output has no fixed-point type; with a dense (the last layer's
  float32 MatMul) it has one value per output of the dense.

Channels are the first dimension of a sample.
"""

from __future__ import annotations

from fxhls.fixed.float32 import chain_shape, host_head, host_tail
from .quantize import node_type


class HostQuantize:
    @staticmethod
    def infer(node, inputs):
        return [(chain_shape(node.attrs["chain"], inputs[0].shape), node_type(node.attrs))]

    @staticmethod
    def execute(node, values):
        return [host_head(values[0], node.attrs)]


class HostFloat:
    @staticmethod
    def infer(node, inputs):
        return [(chain_shape(node.attrs["chain"], inputs[0].shape), None)]

    @staticmethod
    def execute(node, values):
        return [host_tail(values[0], node.attrs)]


OPS = {"HostQuantize": HostQuantize, "HostFloat": HostFloat}
