"""Split a float-scaled graph's host edges off: the float32 work the host does before
and after the hardware (`fxhls.ir.ops.host`).

The HostQuantize becomes the input cast to its codes' integer type (a Quantize, which
leaves the codes the host sends as they are); where a Flatten or Reshape of the input
comes before it and its constants are one value each (it then commutes with them), it
moves before them, so that the graph input is read by the cast. The HostFloat writing
the graph output goes, and the hardware's output is its input.

A channels-last image input (Keras: (H, W, C)) whose values reach a Transpose to
(C, H, W) through value-by-value ops becomes a (C, H, W) input that the host transposes
("input_transpose", the permutation of the model's input batch); a Transpose back after
the input cast keeps the graph's values, and `fold_transposes` cancels it with the
model's. The hardware streams the image pixel by pixel with its channels together,
which is the channels-last order, so no stage moves a value. The same at the other end:
a channels-last image output (a segmentation model's (H, W, C)) that a Transpose from
(C, H, W) makes, followed by value-by-value ops only, becomes a (C, H, W) output that the
host transposes ("output_transpose"); a Transpose to (C, H, W) before the output keeps
the graph's values, and `fold_transposes` cancels it with the model's.
"""

from __future__ import annotations

from ..graph import Graph, Node
from .tensors import new_tensor
from .transposes import SINKABLE
from .types import infer_types

_TYPE_ATTRS = ("width", "int_bits", "signed", "rounding", "overflow")


def split_host_edges(graph: Graph) -> dict:
    """Change `graph` (in place) into what the hardware computes; return the host's part,
    {"head": {"chain", "quant", "offset"} or None, "tail": {"chain"} or None}, plain values,
    and "input_transpose" (a permutation) for a channels-last input the host transposes."""
    host: dict = {"head": None, "tail": None}
    for node in list(graph.nodes):
        if node.op == "HostQuantize":
            if host["head"] is not None:
                raise ValueError(f"node {node.name!r}: a second quantizer of the float input; the hardware takes "
                                 f"one (quantize the input once and branch after it)")
            host["head"] = {key: node.attrs[key] for key in ("chain", "quant", "offset")}
            node.op, node.attrs = "Quantize", {key: node.attrs[key] for key in _TYPE_ATTRS}
            _before_moves(graph, node, host["head"])
        elif node.op == "HostFloat":
            if node.outputs != graph.outputs or len(graph.consumers(node.outputs[0])) > 0:
                raise ValueError(f"node {node.name!r}: host float work is supported as the graph's one output only")
            host["tail"] = {"chain": node.attrs["chain"]}
            graph.outputs = [node.inputs[0]]
            graph.remove_node(node)
    _refuse_float_layer(graph)
    if host["head"] is None and _channels_last_input(graph):
        host["input_transpose"] = _channels_first_input(graph)
    if host["tail"] is None and _channels_last_output(graph):
        host["output_transpose"] = _channels_first_output(graph)
    infer_types(graph)
    return host


def _refuse_float_layer(graph: Graph) -> None:
    """One line naming the layer, where a MatMul, Gemm or Conv reads the float input itself
    (no quantizer before it: Brevitas's ImageNet and bnn_pynq ResNets leave their input so)."""
    for node in graph.nodes:
        if node.op in ("Conv", "Gemm", "MatMul") and any(graph.tensor(name).type is None for name in node.inputs):
            raise ValueError(f"node {node.name!r} ({node.op}): reads the float graph input {graph.inputs[0]!r} with "
                             f"no quantizer before it; `fxhls emulate` computes it, but the hardware takes codes: "
                             f"quantize the input first (a Brevitas QuantIdentity before the first layer)")


def _channels_last_input(graph: Graph) -> bool:
    """Whether the graph input is an image (H, W, C) that, after its input cast and ops
    that compute value by value, a Transpose makes (C, H, W)."""
    source = graph.inputs[0]
    readers = graph.consumers(source)
    if len(graph.tensor(source).shape or ()) != 3 or [reader.op for reader in readers] != ["Quantize"]:
        return False
    tensor = readers[0].outputs[0]
    while len(readers := graph.consumers(tensor)) == 1 and tensor not in graph.outputs:
        if readers[0].op == "Transpose":
            return readers[0].attrs["perm"] == [2, 0, 1]
        if readers[0].op not in SINKABLE:
            return False
        tensor = readers[0].outputs[0]
    return False


def _channels_first_input(graph: Graph) -> list[int]:
    """Make the input (C, H, W), a Transpose back after its cast; returns the host's permutation."""
    height, width, channels = graph.tensor(graph.inputs[0]).shape
    graph.tensor(graph.inputs[0]).shape = (channels, height, width)
    cast = graph.consumers(graph.inputs[0])[0]
    channels_first = new_tensor(graph, f"{cast.outputs[0]}_channels_first")
    back = Node("Transpose", f"{cast.name}_channels_last", [channels_first], list(cast.outputs), {"perm": [1, 2, 0]})
    cast.outputs = [channels_first]
    graph.nodes.insert(graph.nodes.index(cast) + 1, back)
    return [0, 3, 1, 2]


def _channels_last_output(graph: Graph) -> bool:
    """Whether the graph output is an image (H, W, C) that a Transpose from (C, H, W) made,
    followed by ops that compute value by value only."""
    tensor = graph.outputs[0]
    if len(graph.tensor(tensor).shape or ()) != 3 or graph.consumers(tensor):
        return False
    while (writer := graph.producer(tensor)) is not None:
        if writer.op == "Transpose":
            return writer.attrs["perm"] == [1, 2, 0]
        tensor = writer.inputs[0]
        if writer.op not in SINKABLE or len(graph.consumers(tensor)) != 1:
            return False
    return False


def _channels_first_output(graph: Graph) -> list[int]:
    """Make the output (C, H, W), a Transpose to it at the end; returns the host's permutation."""
    channels_first = new_tensor(graph, f"{graph.outputs[0]}_channels_first")
    graph.nodes.append(Node("Transpose", f"{graph.outputs[0]}_channels_first", [graph.outputs[0]], [channels_first],
                            {"perm": [2, 0, 1]}))
    graph.outputs = [channels_first]
    return [0, 2, 3, 1]


def _before_moves(graph: Graph, cast: Node, head: dict) -> None:
    """Swap the input cast with the Flatten or Reshape before it while its constants are single values."""
    constants = [head["quant"]["scale"], head["quant"]["zero"],
                 *(step["constant"] for step in head["chain"]["steps"] if "constant" in step)]
    if any(len(values) != 1 for values in constants):
        return
    mover = graph.producer(cast.inputs[0])
    while mover is not None and mover.op in ("Flatten", "Reshape") and len(graph.consumers(mover.outputs[0])) == 1:
        (mover.op, mover.attrs), (cast.op, cast.attrs) = (cast.op, cast.attrs), (mover.op, mover.attrs)
        cast, mover = mover, graph.producer(mover.inputs[0])
