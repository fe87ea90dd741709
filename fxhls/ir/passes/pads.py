"""Zero Pads before a convolution or a pool: folded into its padding.

A Conv, MaxPool or AveragePool (a "window op") walks its image padded with zeros itself
(`pads`, the same on both sides of an axis), so a Pad of zeros on the height and width read
only by window ops is their padding, when the sum is the same on both sides. A pool's
padding is zeros like the Pad's: they count in its maximum (over signed values too, as
the Pad then MaxPool means) and in its average's N (ONNX's count_include_pad, torch's
default). A 1-D Conv or pool reads its (C, L) sequence through a Reshape to a one-row
(C, 1, L) image (`fxhls.onnx.standard_ops`), which moves nothing: a Pad of L read only by
such Reshapes, each read only by window ops, is a Pad of the image's width and folds the
same way (the Reshapes then read the unpadded sequence). A Pad the pass leaves (before
another op, or one that pads unequally, such as torch's ceil_mode) is refused by the
hardware check in one line.
"""

from __future__ import annotations

from ..graph import Graph, Node
from ..ops.windows import WINDOW_OPS, window_pads
from .types import infer_types


def fold_pads(graph: Graph) -> Graph:
    """Fold each Pad read only by window ops (`WINDOW_OPS`), directly or through the Reshape of a
    sequence to a one-row image, into their padding where that is possible (see the
    module docstring). Returns `graph`, types inferred."""
    for pad in [n for n in graph.nodes if n.op == "Pad"]:
        padded, readers = pad.outputs[0], graph.consumers(pad.outputs[0])
        added = conv_padding(pad.attrs["pads"])
        if added is not None and _read_by_window_ops(graph, padded):
            _add_padding(readers, pad.inputs[0], added)
        elif len(pad.attrs["pads"]) == 4 and (added := conv_padding(row_pads(pad.attrs["pads"]))) is not None \
                and _read_by_row_images(graph, padded):
            channels, length = graph.tensor(pad.inputs[0]).shape
            for image in readers:
                image.inputs[0], image.attrs["shape"] = pad.inputs[0], [channels, 1, length]
                _add_padding(graph.consumers(image.outputs[0]), image.outputs[0], added)
        else:
            continue
        graph.remove_node(pad)
    return infer_types(graph)


def conv_padding(pads: list[int]) -> list[int] | None:
    """[ph, pw] when an image's `pads` ([C, H, W begins, C, H, W ends]) add ph rows above
    and below and pw columns left and right, and no channel; else None."""
    if len(pads) != 6 or pads[0] or pads[3] or pads[1:3] != pads[4:6]:
        return None
    return list(pads[1:3])


def row_pads(pads: list[int]) -> list[int]:
    """A (C, L) sequence's `pads` ([C, L begins, C, L ends]) as those of its one-row (C, 1, L) image."""
    return [pads[0], 0, pads[1], pads[2], 0, pads[3]]


def _read_by_window_ops(graph: Graph, name: str) -> bool:
    """Whether tensor `name` is read only as the image of window ops (and is no graph output)."""
    readers = graph.consumers(name)
    return bool(readers) and name not in graph.outputs and \
        all(r.op in WINDOW_OPS and r.inputs[0] == name for r in readers)


def _read_by_row_images(graph: Graph, name: str) -> bool:
    """Whether the (C, L) tensor `name` is read only by Reshapes to (C, 1, L), each read only by window ops."""
    readers, shape = graph.consumers(name), graph.tensor(name).shape
    if not readers or name in graph.outputs or len(shape) != 2:
        return False
    channels, length = shape
    return all(
        r.op == "Reshape" and list(r.attrs["shape"]) == [channels, 1, length] and _read_by_window_ops(graph, r.outputs[0])
        for r in readers)


def _add_padding(readers: list[Node], image: str, added: list[int]) -> None:
    """Make window ops `readers` read `image` with `added` ([ph, pw]) more padding."""
    for reader in readers:
        reader.inputs[0] = image
        reader.attrs["pads"] = [p + q for p, q in zip(window_pads(reader), added)]
