"""ONNX `Constant` nodes, and standard ops computed from constants only, as initializers:
what exporters write for pads, scales and shapes (torch.onnx's TorchScript exporter
computes a ZeroPad2d's pads with ConstantOfShape, Concat, Slice, Transpose, Cast), and
sometimes weights, becomes the initializer it stands for before anything else reads the
model, so that a weight gets its type in a float model as any initializer does. The
values are computed by onnx's reference evaluator, as ONNX defines them. A Constant
without a numeric value is refused in one line."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

_LISTS = {"value_float": np.float32, "value_floats": np.float32, "value_int": np.int64, "value_ints": np.int64}


def constants_as_initializers(proto: onnx.ModelProto, source: str) -> onnx.ModelProto:
    """`proto` with each standard-domain Constant node, and each standard node whose inputs
    are all initializers (a QONNX or fxhls node is left to its own reader), as initializers
    (a copy; `proto` itself when there is none)."""
    known, folded = {init.name for init in proto.graph.initializer}, []
    for index, node in enumerate(proto.graph.node):
        if _computes_constant(node, known):
            folded.append(index)
            known.update(node.output)
    if not folded:
        return proto
    converted = onnx.ModelProto()
    converted.CopyFrom(proto)
    values = {init.name: numpy_helper.to_array(init) for init in converted.graph.initializer}
    for node in (proto.graph.node[index] for index in folded):
        results = [_value(node, source)] if node.op_type == "Constant" else \
            ReferenceEvaluator(node).run(None, {name: values[name] for name in node.input if name})
        for name, value in zip(node.output, results):
            values[name] = np.asarray(value)
            converted.graph.initializer.append(numpy_helper.from_array(values[name], name))
    kept = [node for index, node in enumerate(proto.graph.node) if index not in set(folded)]
    del converted.graph.node[:]
    converted.graph.node.extend(kept)
    return converted


def _computes_constant(node, known: set) -> bool:
    return node.domain in ("", "ai.onnx") and node.op_type not in ("RandomNormal", "RandomUniform") and \
        all(name in known for name in node.input if name) and (node.op_type == "Constant" or any(node.input))


def _value(node, source: str) -> np.ndarray:
    attribute = node.attribute[0] if len(node.attribute) == 1 else None
    if attribute is not None and attribute.name == "value":
        return numpy_helper.to_array(attribute.t)
    if attribute is not None and attribute.name in _LISTS:
        return np.array(helper.get_attribute_value(attribute), dtype=_LISTS[attribute.name])
    names = ", ".join(a.name for a in node.attribute) or "none"
    raise ValueError(f"{source}: node {node.name or node.output[0]!r} (Constant): its value ({names}) is not a "
                     f"numeric tensor; supported: value, value_float(s), value_int(s)")
