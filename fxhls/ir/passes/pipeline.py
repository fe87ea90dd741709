"""The passes every hardware backend runs, in order."""

from __future__ import annotations

from ..graph import Graph
from .constants import fold_constants
from .fuse import fuse_affine, fuse_quantize
from .types import infer_types


def lower_for_hardware(graph: Graph) -> Graph:
    """Fold weight quantizers, fuse casts and BatchNorm affines into their stages,
    and infer every type; returns `graph` (changed in place)."""
    for step in (fold_constants, fuse_quantize, fuse_affine, infer_types):
        graph = step(graph)
    return graph
