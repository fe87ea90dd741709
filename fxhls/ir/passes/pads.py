"""Zero Pads before a convolution: folded into its padding.

A Conv pads its image with zeros itself (`pads`, the same on both sides of an axis), so
a Pad of zeros on the height and width read only by a Conv is that Conv's padding, when
the sum is the same on both sides. A Pad the pass leaves (before another op, or one that
pads unequally) is refused by the hardware check in one line.
"""

from __future__ import annotations

from ..graph import Graph
from .types import infer_types


def fold_pads(graph: Graph) -> Graph:
    """Fold each Pad read only by Conv nodes into their padding where that is possible
    (see the module docstring). Returns `graph`, types inferred."""
    for pad in [n for n in graph.nodes if n.op == "Pad"]:
        readers = graph.consumers(pad.outputs[0])
        added = conv_padding(pad.attrs["pads"])
        if added is None or not readers or pad.outputs[0] in graph.outputs or \
                any(r.op != "Conv" or r.inputs[0] != pad.outputs[0] for r in readers):
            continue
        for conv in readers:
            conv.inputs[0] = pad.inputs[0]
            conv.attrs["pads"] = [p + q for p, q in zip(conv.attrs["pads"], added)]
        graph.remove_node(pad)
    return infer_types(graph)


def conv_padding(pads: list[int]) -> list[int] | None:
    """[ph, pw] when an image's `pads` ([C, H, W begins, C, H, W ends]) add ph rows above
    and below and pw columns left and right, and no channel; else None."""
    if len(pads) != 6 or pads[0] or pads[3] or pads[1:3] != pads[4:6]:
        return None
    return list(pads[1:3])
