"""The exact reference execution of a graph."""

from __future__ import annotations

import torch

from .graph import Graph
from .ops import OPS


def execute(graph: Graph, x: torch.Tensor) -> list[torch.Tensor]:
    """Run `graph` on the batch `x` (batch first) in float64; returns its outputs."""
    values = dict(graph.constants())
    values[graph.inputs[0]] = torch.as_tensor(x).to(torch.float64)
    for node in graph.nodes:
        outputs = OPS[node.op].execute(node, [values[name] for name in node.inputs])
        values.update(zip(node.outputs, outputs))
    return [values[name] for name in graph.outputs]
