"""Binary (BNN) layers in the HLS backend: -1/+1 weights as bits, XNOR-popcount where
the inputs are -1/+1 too, and the output stage (fused thresholds, or the bias).

A binary_scale (XNOR-Net's alpha) is no concern here: `split_binary_scale` moved it
into an Affine after the layer, so binary weights are -1 and +1.
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import BINARY_TYPE, FixedType, accumulator_type
from fxhls.ir.graph import Graph, Node
from fxhls.ir.passes.bnn import holds_binary_values

__all__ = ["is_binary_layer", "holds_binary_values", "fused_threshold", "weight_bits", "sum_type"]


def is_binary_layer(graph: Graph, node: Node) -> bool:
    """A Gemm/Conv with -1/+1 weights and an exact accumulator: no multiplier needed."""
    weights = graph.tensor(node.inputs[1])
    return bool(weights.facts.get("binary")) and "acc_type" not in node.attrs and bool((np.abs(weights.data) == 1).all())


def fused_threshold(graph: Graph, node: Node) -> Node | None:
    """The Threshold node a binary layer without bias alone feeds (the layer computes it;
    `fold_bnn_thresholds` leaves no bias), if any."""
    consumers = graph.consumers(node.outputs[0])
    if len(node.inputs) > 2 or node.outputs[0] in graph.outputs or "out_type" in node.attrs:
        return None
    if len(consumers) == 1 and consumers[0].op == "Threshold":
        return consumers[0]
    return None


def weight_bits(weights: np.ndarray) -> list:
    """1 where a weight is +1, 0 where -1: (out, in) nested lists."""
    return (weights.reshape(weights.shape[0], -1) > 0).astype(np.int64).tolist()


def sum_type(x: FixedType, n_in: int) -> FixedType:
    """A type holding any sum of n_in values +-x exactly."""
    return accumulator_type(x, BINARY_TYPE, n_in)

