"""The passes every hardware backend runs, in order."""

from __future__ import annotations

from ..graph import Graph
from .bnn import fold_bnn_thresholds
from .constants import fold_constants
from .fuse import fuse_affine, fuse_quantize
from .khot import lower_khot
from .types import infer_types


def lower_for_hardware(graph: Graph) -> Graph:
    """Fold weight quantizers, fuse casts and BatchNorm affines into their stages,
    give K-hot constants their shift-add terms, turn binary layers' BatchNorm and
    Sign into thresholds, and infer every type; returns `graph` (changed in place)."""
    for step in (fold_constants, fuse_quantize, fuse_affine, lower_khot, fold_bnn_thresholds, infer_types):
        graph = step(graph)
    return graph
