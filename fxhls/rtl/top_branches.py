"""How deep the FIFO of each branch of a forked stream must be.

A fork passes a beat to all its readers at once, so while one branch holds beats back
(a convolution's or pool's window fills rows before its first output; a dense layer
takes a whole vector first) the other branches must take every beat the fork passes
meanwhile, or the fork stops and the holding branch starves before the branches meet
again at their join: a deadlock. So every branch but the one that holds the most gets
a FIFO as deep as everything between the fork and the join can hold, in beats of the
forked stream: a window stage its line buffer of ROWS image rows
(`fxhls.rtl.windows.line_buffer_rows`, as in fxhls_window), scaled to the forked image's
pixels; a dense layer or global pool one vector; every stage a few beats of registers
and FIFOs. The total is doubled (margin for the regrouping buffers) and rounded up to
a power of two. The join is the first node every reader leads to.
"""

from __future__ import annotations

import math

from fxhls.deploy.packing import stream_image
from fxhls.ir.graph import Graph, Node
from fxhls.ir.ops.windows import WINDOW_OPS, window_kernel, window_pads

from .windows import line_buffer_rows

STAGE_SLACK_BEATS = 8


def branch_fifo_depths(graph: Graph, tensor: str, readers: list[Node], lanes: int) -> list[int]:
    """The FIFO depth (beats of `lanes` values of `tensor`, 0 for none) of each branch of
    `tensor` forked to `readers` (a node reading it twice is listed twice)."""
    join = _join(graph, tensor, readers)
    between = _between(graph, tensor, readers, join)
    own = [_held_values(graph, tensor, [n for n in between if n.name in _reach(graph, reader)]) for reader in readers]
    deepest = own.index(max(own))
    beats = 2 * (math.ceil(_held_values(graph, tensor, between) / lanes) + STAGE_SLACK_BEATS * (len(between) + 1))
    depth = 1 << (beats - 1).bit_length()
    return [0 if index == deepest else depth for index in range(len(readers))]


def _reach(graph: Graph, node: Node) -> set[str]:
    """The names of `node` and of every node that reads what it computes, transitively."""
    found, pending = set(), [node]
    while pending:
        current = pending.pop()
        if current.name in found:
            continue
        found.add(current.name)
        pending += [reader for name in current.outputs for reader in graph.consumers(name)]
    return found


def _join(graph: Graph, tensor: str, readers: list[Node]) -> Node:
    """The first node (in graph order) that every reader leads to."""
    common = set.intersection(*(_reach(graph, reader) for reader in readers))
    join = next((node for node in graph.nodes if node.name in common), None)
    if join is None:
        names = ", ".join(repr(reader.name) for reader in readers)
        raise ValueError(f"tensor {tensor!r} is read by {names}, whose branches never meet again; the RTL top "
                         f"streams one output")
    return join


def _between(graph: Graph, tensor: str, readers: list[Node], join: Node) -> list[Node]:
    """The nodes on the paths from the readers to `join`'s inputs (not `join`)."""
    after_fork = set().union(*(_reach(graph, reader) for reader in readers))
    found: set[str] = set()
    pending = [name for name in join.inputs if name != tensor]
    while pending:
        node = graph.producer(pending.pop())
        if node is None or node.name in found or node.name not in after_fork:
            continue
        found.add(node.name)
        pending += [name for name in node.inputs if name != tensor and not graph.is_constant(name)]
    return [node for node in graph.nodes if node.name in found]


def _held_values(graph: Graph, tensor: str, nodes: list[Node]) -> int:
    """Values of `tensor` that the stages of `nodes` can hold before their first output."""
    shape = graph.tensor(tensor).shape
    values = math.prod(shape)
    image = stream_image(shape)
    pixels = image[1] * image[2] if image is not None else 1
    values_per_pixel = values // pixels
    held = 0
    for node in nodes:
        x_shape = graph.tensor(node.inputs[0]).shape
        if node.op in WINDOW_OPS and len(x_shape) == 3:
            rows = line_buffer_rows(x_shape[1], window_kernel(graph, node)[0], node.attrs["strides"][0],
                                    window_pads(node)[0])
            scale = pixels / (x_shape[1] * x_shape[2])  # forked pixels per pixel of this stage's image
            held += math.ceil(rows * x_shape[2] * scale) * values_per_pixel
        elif node.op in ("Gemm", "GlobalAveragePool", "Flatten"):
            held += values
    return held
