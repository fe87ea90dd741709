"""The linear forms backends know: MatMul as Gemm, a lone constant Mul or Add as an Affine.

QONNX graphs (Brevitas) compute a dense layer as MatMul then Add(bias), and scale a
bipolar activation with a Mul; the hardware graph has Gemm and per-channel Affine for
those. Both rewrites compute the same values: Gemm(x, W^T) sums the same products in
the same order as MatMul(x, W), and x * c + 0 or x * 1 + c is x * c or x + c, exactly.
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import exact_type

from ..graph import Graph, Node

from .tensors import new_tensor, per_channel
from .types import infer_types


def matmul_to_gemm(graph: Graph) -> Graph:
    """Turn each MatMul of a vector by a constant matrix W (in, out) into Gemm with W^T
    (out, in), keeping bias, attributes and W's `khot`/`binary` facts. Returns `graph`."""
    for index, node in enumerate(graph.nodes):
        if node.op != "MatMul" or not graph.is_constant(node.inputs[1]) or len(graph.tensor(node.inputs[0]).shape) != 1:
            continue
        weights = graph.tensor(node.inputs[1])
        facts = {key: value for key, value in weights.facts.items() if key in ("khot", "binary")}
        if "terms" in weights.facts:
            facts["terms"] = tuple(part.swapaxes(0, 1) for part in weights.facts["terms"])
        transposed = new_tensor(graph, f"{weights.name}_transposed", np.ascontiguousarray(weights.data.T),
                                weights.type, facts)
        graph.nodes[index] = Node("Gemm", node.name, [node.inputs[0], transposed, *node.inputs[2:]],
                                  list(node.outputs), dict(node.attrs))
        if not graph.consumers(weights.name):
            del graph.tensors[weights.name]
    return infer_types(graph)


def lone_affines(graph: Graph) -> Graph:
    """Turn each Mul or Add of an activation and a constant that is one value per channel
    into Affine(x, c, 0) or Affine(x, 1, c) (run after `fuse_affine`, which takes Mul then
    Add together). Returns `graph`, types inferred."""
    for index, node in enumerate(graph.nodes):
        constants = [name for name in node.inputs if graph.is_constant(name)]
        if node.op not in ("Mul", "Add") or len(node.inputs) != 2 or len(constants) != 1:
            continue
        x = next(name for name in node.inputs if name not in constants)
        shape = graph.tensor(x).shape
        values = per_channel(graph.tensor(constants[0]).data, shape)
        if values is None:
            continue
        values = values.reshape(shape[0], *[1] * (len(shape) - 1))
        if node.op == "Mul":
            scale, shift = values, np.zeros_like(values)
        else:
            scale, shift = np.ones_like(values), values
        names = [new_tensor(graph, f"{node.name}_{role}", data, exact_type(data, min_frac_bits=0))
                 for role, data in (("scale", scale), ("shift", shift))]
        graph.nodes[index] = Node("Affine", node.name, [x, *names], list(node.outputs), dict(node.attrs))
        if not graph.consumers(constants[0]):
            del graph.tensors[constants[0]]
    return infer_types(graph)

