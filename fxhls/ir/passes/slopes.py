"""PRelu slopes of few non-zero bits: multiplied by shifts and additions.

A slope that is a sum of at most `MAX_SLOPE_TERMS` signed powers of two (0.25, 0.125 +
0.0625, -0.5, ...) is marked K-hot (`facts["khot"]`), so that `lower_khot` gives it its
terms and the backends multiply by it without a multiplier (no DSP), as they do K-hot
weights and BatchNorm scales. The product is the same exact value either way.
"""

from __future__ import annotations

from ..graph import Graph
from .khot import non_adjacent_form

MAX_SLOPE_TERMS = 2


def khot_slopes(graph: Graph) -> Graph:
    """Mark each PRelu's slope K-hot where every value needs at most `MAX_SLOPE_TERMS`
    signed powers of two (K the most any needs, at least 1). Returns `graph`."""
    for node in graph.nodes:
        slope = graph.tensor(node.inputs[1]) if node.op == "PRelu" else None
        if slope is None or slope.data is None or slope.type is None or "khot" in slope.facts:
            continue
        codes = (slope.data * 2.0**slope.type.frac_bits).astype("int64")
        terms = int((non_adjacent_form(codes) != 0).sum(-1).max())
        if terms <= MAX_SLOPE_TERMS:
            slope.facts["khot"] = max(terms, 1)
    return graph
