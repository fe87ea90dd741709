"""Threshold in the HLS backend where no binary layer computes it (templates/hls/layers/
bnn.h `threshold_stream`): each channel's value against its threshold, -1 or +1."""

from __future__ import annotations

from fxhls.templating import render

from .calls import stage_call
from .context import LayerContext
from .conv import cpp_number

HEADERS = ("bnn.h",)


def threshold_layer(context: LayerContext) -> dict:
    """The C++ of a Threshold node that is a stage of its own (see `fxhls.hls.layers`)."""
    graph, node, name = context.graph, context.node, context.name
    x, limits = graph.tensor(node.inputs[0]), graph.tensor(node.inputs[1])
    stream = context.inputs[0]
    values = dict(node=node.name, layer=name, channels=stream.lanes, pixels=stream.beats, in_type=x.type,
                  threshold_type=limits.type,
                  thresholds=list(zip([cpp_number(v) for v in limits.data.tolist()], node.attrs["direction"])))
    return {
        "code": render("hls/layers/bnn_threshold_config.h.j2", **values),
        "weights": render("hls/layers/bnn_threshold_constants.h.j2", **values),
        "call": stage_call("fxhls::threshold_stream", [f"{name}_config"], [f"{name}_stages"]),
        "headers": HEADERS,
    }
