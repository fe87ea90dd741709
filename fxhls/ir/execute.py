"""The exact reference execution of a graph."""

from __future__ import annotations

import torch

from fxhls.fixed import quantize

from .graph import Graph
from .ops import OPS


def execute(graph: Graph, x: torch.Tensor) -> list[torch.Tensor]:
    """Run `graph` on the batch `x` (batch first) in float64; returns its outputs.
    A node's `out_type` attribute casts its result."""
    values = dict(graph.constants())
    values[graph.inputs[0]] = torch.as_tensor(x).to(torch.float64)
    for node in graph.nodes:
        outputs = OPS[node.op].execute(node, [values[name] for name in node.inputs])
        if "out_type" in node.attrs:
            outputs = [quantize(y, node.attrs["out_type"]) for y in outputs]
        values.update(zip(node.outputs, outputs))
    return [values[name] for name in graph.outputs]
