"""MultiThreshold in the HLS backend (templates/hls/layers/multithreshold.h): each
channel's code is its base plus the number of thresholds its value reaches."""

from __future__ import annotations

from fxhls.templating import render

from .calls import stage_call
from .context import LayerContext
from .conv import cpp_number

HEADERS = ("multithreshold.h",)


def multithreshold_layer(context: LayerContext) -> dict:
    """The C++ of a MultiThreshold node (contracts.md section 4)."""
    graph, node, name = context.graph, context.node, context.name
    limits = graph.tensor(node.inputs[1])
    stream = context.inputs[0]
    channels, levels = limits.data.shape
    values = dict(node=node.name, layer=name, channels=channels, pixels=stream.beats, levels=levels,
                  base=int(node.attrs["base"]), threshold_type=limits.type,
                  thresholds=[[cpp_number(v) for v in row] for row in limits.data.tolist()],
                  directions=[int(d) for d in node.attrs["direction"]])
    return {
        "code": render("hls/layers/multithreshold_config.h.j2", **values),
        "weights": render("hls/layers/multithreshold_constants.h.j2", **values),
        "call": stage_call("fxhls::multithreshold_stream", [f"{name}_config"],
                           [f"{name}_thresholds", f"{name}_directions"]),
        "headers": HEADERS,
    }
