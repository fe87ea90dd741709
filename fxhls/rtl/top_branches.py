"""How deep the shortcut FIFO of a residual block must be.

A fork passes a beat to both branches at once, so while the main branch holds beats
back (a convolution's or pool's window fills rows before its first output; a dense
layer takes a whole vector first) the shortcut FIFO must take every beat the fork
passes meanwhile, or the fork stops and the main branch starves: a deadlock. The
depth counts, in beats of the forked stream, what each stage of the main branch can
hold: a window stage its line buffer of ROWS image rows (ROWS = the power of two
above the kernel's height, as in fxhls_window), scaled to the forked image's pixels;
a dense layer one vector; every stage a few beats of registers and FIFOs. The total
is doubled (margin for the regrouping buffers) and rounded up to a power of two.
"""

from __future__ import annotations

import math

from fxhls.ir.graph import Graph, Node

STAGE_SLACK_BEATS = 8


def branch_nodes(graph: Graph, tensor: str, join: Node) -> list[Node]:
    """The nodes on the paths from `tensor` to `join`'s inputs other than `tensor`."""
    found: dict[str, Node] = {}
    pending = [name for name in join.inputs if name != tensor]
    while pending:
        node = graph.producer(pending.pop())
        if node is None or node.name in found:
            continue
        found[node.name] = node
        pending += [name for name in node.inputs if name != tensor and not graph.is_constant(name)]
    return [node for node in graph.nodes if node.name in found]


def shortcut_depth(graph: Graph, tensor: str, join: Node, lanes: int) -> int:
    """FIFO depth (beats of `lanes` values of `tensor`) for the shortcut from `tensor` to
    `join` while the main branch holds beats back."""
    shape = graph.tensor(tensor).shape
    values = math.prod(shape)
    pixels = shape[1] * shape[2] if len(shape) == 3 else 1
    values_per_pixel = values // pixels
    held_values = 0
    nodes = branch_nodes(graph, tensor, join)
    for node in nodes:
        x_shape = graph.tensor(node.inputs[0]).shape
        if node.op in ("Conv", "MaxPool", "AveragePool") and len(x_shape) == 3:
            kernel_h = graph.tensor(node.inputs[1]).shape[2] if node.op == "Conv" else node.attrs["kernel_shape"][0]
            rows = 1 << kernel_h.bit_length()
            scale = pixels / (x_shape[1] * x_shape[2])  # forked pixels per pixel of this stage's image
            held_values += math.ceil(rows * x_shape[2] * scale) * values_per_pixel
        elif node.op in ("Gemm", "GlobalAveragePool"):
            held_values += values
    beats = 2 * (math.ceil(held_values / lanes) + STAGE_SLACK_BEATS * (len(nodes) + 1))
    return 1 << (beats - 1).bit_length()
