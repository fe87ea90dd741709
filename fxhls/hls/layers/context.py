"""What a layer function of the HLS backend gets: its node, its streams, its folding."""

from __future__ import annotations

from dataclasses import dataclass

from fxhls.fixed import FixedType
from fxhls.ir.graph import Graph, Node


@dataclass(frozen=True)
class Stream:
    """How a tensor travels between stages: `beats` beats per sample, each a pixel of
    `lanes` values of `type` (an image (C, H, W): H*W beats of C values, row by row; a
    vector (n,): one beat of n values, or the beats of the image it flattens)."""

    beats: int
    lanes: int
    type: FixedType

    @property
    def values(self) -> int:
        return self.beats * self.lanes


@dataclass(frozen=True)
class LayerContext:
    """The node, in a graph whose names are C++ identifiers (`fxhls.hls.naming`);
    `name` the layer's identifier; `reuse` its folding (the initiation interval of its
    compute per step, >= 1); its input streams and its output stream; `fold`, a K-hot or
    binary layer's (SIMD, PE) where the user set it (None: `conv.lane_fold` of the reuse)."""

    graph: Graph
    node: Node
    name: str
    reuse: int
    inputs: tuple[Stream, ...]
    output: Stream
    fold: tuple[int, int] | None = None
