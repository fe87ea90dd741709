"""The typed graph: tensors with shapes and fixed-point types, nodes in topological order.

Shapes leave out the batch dimension: a graph describes one sample, and execution
runs it on a batch (dimension 0). Constant tensors (weights, biases) hold their
exact values as float64 numpy arrays. No file paths or tool state live here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fxhls.fixed import FixedType


@dataclass
class Tensor:
    """A value of the graph: `shape` per sample (no batch dimension), `type` its
    FixedType (None while unknown or for a float network input), `data` for constants,
    `facts` what passes learned about a constant's values (`khot`, `terms`, `binary`)."""

    name: str
    shape: tuple[int, ...] | None = None
    type: FixedType | None = None
    data: np.ndarray | None = None
    facts: dict = field(default_factory=dict)


@dataclass
class Node:
    """One operation: `op` names an entry of `fxhls.ir.ops.OPS`; `attrs` are plain values."""

    op: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict = field(default_factory=dict)


@dataclass
class Graph:
    """Nodes in topological order, the tensors they read and write, and the graph's
    input and output tensor names."""

    nodes: list[Node]
    tensors: dict[str, Tensor]
    inputs: list[str]
    outputs: list[str]

    def tensor(self, name: str) -> Tensor:
        return self.tensors[name]

    def constants(self) -> dict[str, np.ndarray]:
        return {name: t.data for name, t in self.tensors.items() if t.data is not None}

    def is_constant(self, name: str) -> bool:
        return self.tensors[name].data is not None

    def producer(self, name: str) -> Node | None:
        """The node that writes tensor `name` (None for a graph input or a constant)."""
        return next((node for node in self.nodes if name in node.outputs), None)

    def consumers(self, name: str) -> list[Node]:
        """The nodes that read tensor `name`."""
        return [node for node in self.nodes if name in node.inputs]

    def remove_node(self, node: Node) -> None:
        """Drop `node`, and every tensor no node or graph output refers to any more."""
        self.nodes.remove(node)
        used = {name for n in self.nodes for name in (*n.inputs, *n.outputs)} | set(self.inputs) | set(self.outputs)
        for name in [name for name in self.tensors if name not in used]:
            del self.tensors[name]
