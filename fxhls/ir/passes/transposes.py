"""Transposes that only change the layout around per-pixel streams: folded away.

Keras models come channels-last, and tf2onnx wraps each Conv, pool and Resize in a
Transpose to channels-first and one back; a Flatten of a channels-last image flattens in
(H, W, C) order. The hardware streams images pixel by pixel with a pixel's channels
together, so these Transposes are wiring. `fold_transposes` removes them without moving a
value, repeating until nothing changes:
- a Transpose whose reader is a Transpose undoing it: both go (the readers read the input);
- a Transpose read only by an op that computes value by value (`SINKABLE`) moves after it,
  the op's constant (a PRelu slope) or pads transposed with it, so that it meets the
  Transpose that undoes it;
- a Transpose read only by a Flatten read only by Gemms with exact sums: the Gemms' weight
  columns are permuted instead (the flattened order is the Gemms' business).
Every rewrite computes the same values (a Transpose moves values, it never changes one);
an exact sum does not depend on the order of its terms, so a Gemm with a narrowed
accumulator keeps its Transpose (the hardware check then refuses it in one line).
"""

from __future__ import annotations

import numpy as np

from ..graph import Graph, Node
from .tensors import new_tensor
from .types import infer_types

SINKABLE = ("Quantize", "Relu", "Sign", "Table", "PRelu", "Pad")


def fold_transposes(graph: Graph) -> Graph:
    """Remove the Transposes that cancel, sink or fold into Dense weights (see the module
    docstring); returns `graph`, types inferred."""
    changed = True
    while changed:
        changed = False
        for node in [n for n in graph.nodes if n.op == "Transpose"]:
            if _cancel(graph, node) or _sink(graph, node) or _into_dense(graph, node):
                infer_types(graph)
                changed = True
                break
    return infer_types(graph)


def composed(first: list[int], second: list[int]) -> list[int]:
    """The permutation of x.transpose(first).transpose(second)."""
    return [first[axis] for axis in second]


def _cancel(graph: Graph, node: Node) -> bool:
    """Readers of a Transpose that undoes `node` read `node`'s input instead."""
    undoing = [reader for reader in graph.consumers(node.outputs[0]) if reader.op == "Transpose" and
               composed(node.attrs["perm"], reader.attrs["perm"]) == sorted(reader.attrs["perm"])]
    for reader in undoing:
        _replace_uses(graph, reader.outputs[0], node.inputs[0])
        graph.remove_node(reader)
    if undoing and not graph.consumers(node.outputs[0]) and node.outputs[0] not in graph.outputs:
        graph.remove_node(node)
    return bool(undoing)


def _sink(graph: Graph, node: Node) -> bool:
    """Transpose(x) -> op becomes op(x) -> Transpose, for an op of `SINKABLE`."""
    readers = graph.consumers(node.outputs[0])
    if len(readers) != 1 or readers[0].op not in SINKABLE or node.outputs[0] in graph.outputs:
        return False
    op, perm = readers[0], node.attrs["perm"]
    if op.inputs.count(node.outputs[0]) != 1 or op.inputs[0] != node.outputs[0]:
        return False
    inverse = [int(axis) for axis in np.argsort(perm)]
    inputs = [node.inputs[0]] + [_transposed_constant(graph, name, graph.tensor(node.outputs[0]).shape, inverse)
                                 for name in op.inputs[1:]]
    attrs = dict(op.attrs)
    if op.op == "Pad":
        rank, pads = len(perm), op.attrs["pads"]
        attrs["pads"] = [pads[perm.index(axis)] for axis in range(rank)] + \
            [pads[rank + perm.index(axis)] for axis in range(rank)]
    moved = new_tensor(graph, f"{op.outputs[0]}_before_transpose")
    first, second = graph.nodes.index(node), graph.nodes.index(op)
    graph.nodes[first] = Node(op.op, op.name, inputs, [moved], attrs)
    graph.nodes[second] = Node("Transpose", node.name, [moved], list(op.outputs), {"perm": list(perm)})
    _drop_unused(graph)
    return True


def _transposed_constant(graph: Graph, name: str, shape: tuple[int, ...], inverse: list[int]) -> str:
    """A constant broadcast over a sample of `shape`, moved back through the Transpose
    (`inverse` its inverse permutation) and kept only as large as its values need."""
    tensor = graph.tensor(name)
    values = np.broadcast_to(tensor.data, shape).transpose(inverse)
    for axis in range(values.ndim):
        first = values.take([0], axis=axis)
        if (values == first).all():
            values = first
    facts = {key: value for key, value in tensor.facts.items() if key != "terms"}
    return new_tensor(graph, f"{name}_transposed", np.ascontiguousarray(values), tensor.type, facts)


def _into_dense(graph: Graph, node: Node) -> bool:
    """Transpose -> Flatten -> Gemms (exact sums): the Gemms' columns take the order."""
    readers = graph.consumers(node.outputs[0])
    if len(readers) != 1 or readers[0].op != "Flatten" or node.outputs[0] in graph.outputs:
        return False
    flatten = readers[0]
    gemms = graph.consumers(flatten.outputs[0])
    if flatten.outputs[0] in graph.outputs or not gemms or \
            any(g.op != "Gemm" or g.inputs[0] != flatten.outputs[0] or "acc_type" in g.attrs for g in gemms):
        return False
    shape = graph.tensor(node.inputs[0]).shape
    order = np.arange(int(np.prod(shape))).reshape(shape).transpose(node.attrs["perm"]).flatten()
    for gemm in gemms:
        weights = graph.tensor(gemm.inputs[1])
        columns = np.empty_like(weights.data)
        columns[:, order] = weights.data
        facts = {key: value for key, value in weights.facts.items() if key != "terms"}
        gemm.inputs[1] = new_tensor(graph, f"{weights.name}_columns", columns, weights.type, facts)
    flatten.inputs[0] = node.inputs[0]
    graph.remove_node(node)
    _drop_unused(graph)
    return True


def _replace_uses(graph: Graph, old: str, new: str) -> None:
    for reader in graph.consumers(old):
        reader.inputs = [new if name == old else name for name in reader.inputs]
    graph.outputs = [new if name == old else name for name in graph.outputs]


def _drop_unused(graph: Graph) -> None:
    used = {name for n in graph.nodes for name in (*n.inputs, *n.outputs)} | set(graph.inputs) | set(graph.outputs)
    for name in [name for name in graph.tensors if name not in used]:
        del graph.tensors[name]
