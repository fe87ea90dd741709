"""PRelu (LeakyRelu, PRelu) in the HLS backend (templates/hls/layers/prelu.h): the
negative side times a slope per channel, by a multiplier or, for a K-hot slope, by
shifts and adds."""

from __future__ import annotations

import numpy as np

from fxhls.ir.passes.khot import khot_terms
from fxhls.ir.passes.tensors import per_channel
from fxhls.templating import render

from . import khot
from .calls import stage_call
from .context import LayerContext
from .conv import cpp_number

HEADERS = ("prelu.h", "khot.h")


def channel_slopes(graph, node) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """The slope per channel (a pixel's lane: an image's C, each value of a vector), and
    its K-hot terms (signs, exponents) where `lower_khot` gave the slope terms; a one-line
    ValueError for a slope that is not one value per channel."""
    x, slope = graph.tensor(node.inputs[0]), graph.tensor(node.inputs[1])
    slopes = per_channel(slope.data, tuple(x.shape))
    if slopes is None:
        raise ValueError(f"node {node.name!r}: its slope of shape {list(slope.data.shape)} is not one value per "
                         f"channel of its {list(x.shape)} input; hardware supports a slope per tensor or per channel")
    if "terms" not in slope.facts:
        return slopes, None
    k = slope.facts["terms"][0].shape[-1]
    return slopes, khot_terms(slopes, slope.type.frac_bits, k, node.inputs[1])


def prelu_layer(context: LayerContext) -> dict:
    """The C++ of a PRelu node: its config, its slopes (or K-hot terms) and its stage."""
    graph, node, name = context.graph, context.node, context.name
    slopes, terms = channel_slopes(graph, node)
    signs, exponents = terms if terms is not None else (None, None)
    x_type, slope = graph.tensor(node.inputs[0]).type, graph.tensor(node.inputs[1])
    values = dict(node=node.name, layer=name, channels=len(slopes), beats=context.inputs[0].beats,
                  khot=None if signs is None else signs.shape[-1])
    if signs is not None:
        values |= dict(term_type=khot.term_type(x_type, exponents), slope_terms=khot.term_rows(signs, exponents))
        function, constant = "fxhls::prelu_khot", f"{name}_terms"
    else:
        values |= dict(slope_type=slope.type, slope=[cpp_number(v) for v in slopes.tolist()])
        function, constant = "fxhls::prelu", f"{name}_slope"
    return {
        "code": render("hls/layers/prelu_config.h.j2", **values),
        "weights": render("hls/layers/prelu_slopes.h.j2", **values),
        "call": stage_call(function, [f"{name}_config"], [constant]),
        "headers": HEADERS,
    }
