"""The check backends run first: is the graph in the form they consume?"""

from __future__ import annotations

import math

import numpy as np

from fxhls.deploy.packing import to_stream_order

from ..graph import Graph, Node
from ..ops import OPS

# op -> positions of its inputs that are constants (every other input is an activation)
HARDWARE_OPS = {
    "Quantize": (), "Gemm": (1, 2), "Conv": (1, 2), "Affine": (1, 2), "Relu": (), "Add": (), "MaxPool": (),
    "AveragePool": (), "GlobalAveragePool": (), "Flatten": (), "Sign": (), "Threshold": (1,), "MultiThreshold": (1,),
    "MulShift": (), "Reshape": (), "Transpose": (), "Table": (), "Concat": (), "PRelu": (1,), "Upsample": (),
    "Softmax": (), "ArgMax": (),
}
_MOVING = ("Reshape", "Transpose")  # supported only where they move no value in stream order
_ADVICE = "run fxhls.ir.passes.lower_for_hardware first"


def check_hardware_graph(graph: Graph) -> Graph:
    """Raise a one-line `ValueError`, naming the node or tensor, unless `graph` is in the
    form hardware backends consume: one float input whose only reader is the input
    cast (a Quantize), one output; only the ops of `HARDWARE_OPS`, with constants
    exactly where those take them; every other tensor typed and shaped; K-hot constants
    with their terms, binary ones of -1 and +1; a Concat along the channel axis. Returns `graph`."""
    _check_ends(graph)
    for node in graph.nodes:
        _check_node(graph, node)
    for name, tensor in graph.tensors.items():
        if name in graph.inputs:
            continue
        if tensor.type is None or tensor.shape is None:
            writer = graph.producer(name)
            origin = f"written by node {writer.name!r} ({writer.op})" if writer else "a constant"
            raise ValueError(f"tensor {name!r} ({origin}) has no fixed-point type or shape; every tensor of a "
                             f"hardware graph needs one (a cast after it sets it); {_ADVICE}")
        if tensor.data is not None:
            _check_facts(name, tensor)
    return graph


def _check_ends(graph: Graph) -> None:
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise ValueError(f"a hardware graph has one input and one output, this one has {len(graph.inputs)} and "
                         f"{len(graph.outputs)}")
    readers = graph.consumers(graph.inputs[0])
    if [node.op for node in readers] != ["Quantize"]:
        raise ValueError(f"the graph input {graph.inputs[0]!r} must be read by exactly one Quantize (the input "
                         f"cast), it is read by {[f'{n.name} ({n.op})' for n in readers]}; {_ADVICE}")


def _check_node(graph: Graph, node: Node) -> None:
    if node.op == "Pad":  # what fold_pads leaves
        readers = ", ".join(f"{r.name!r} ({r.op})" for r in graph.consumers(node.outputs[0])) or "the output"
        raise ValueError(f"node {node.name!r}: a zero Pad is supported where it folds into the padding of the Conv, "
                         f"MaxPool or AveragePool that reads it (the same on both sides of an axis, no channel "
                         f"padded); this one pads {node.attrs['pads']} before {readers}")
    if node.op not in HARDWARE_OPS:
        raise ValueError(f"node {node.name!r}: op {node.op} is not supported by the hardware backends "
                         f"(supported: {', '.join(HARDWARE_OPS)}); {_ADVICE}")
    for position, name in enumerate(node.inputs):
        wanted = position in HARDWARE_OPS[node.op]
        if graph.is_constant(name) != wanted:
            kind = "a constant" if wanted else "an activation (not a constant)"
            raise ValueError(f"node {node.name!r} ({node.op}): input {position} ({name!r}) must be {kind}"
                             + ("; a weight quantizer is not folded" if node.op == "Quantize" else "")
                             + f"; {_ADVICE}")
    if node.op == "Concat" and node.attrs["axis"] != 0:
        raise ValueError(f"node {node.name!r}: this Concat joins along sample axis {node.attrs['axis']}; hardware "
                         f"joins along the channel axis (axis 1 of a batch: a vector's values, an image's or a "
                         f"sequence's channels)")
    if node.op in _MOVING and not _keeps_stream_order(graph, node):
        raise ValueError(f"node {node.name!r}: this {node.op} moves values in stream order (pixel by pixel, channels "
                         f"together); hardware supports {' and '.join(_MOVING)} only where they move none")


def _keeps_stream_order(graph: Graph, node: Node) -> bool:
    shape = graph.tensor(node.inputs[0]).shape
    positions = np.arange(math.prod(shape), dtype=np.float64).reshape(1, *shape)
    moved = OPS[node.op].execute(node, [positions])[0]
    try:
        return bool((to_stream_order(positions) == to_stream_order(moved)).all())
    except ValueError:  # a shape that is neither a vector nor an image has no stream order
        return False


def _check_facts(name: str, tensor) -> None:
    if "khot" in tensor.facts and "terms" not in tensor.facts:
        raise ValueError(f"constant {name!r} is K-hot but has no shift-add terms; {_ADVICE}")
    if tensor.facts.get("binary") and not (np.abs(tensor.data) == 1).all():
        raise ValueError(f"constant {name!r} is marked binary but holds values other than -1 and +1")
