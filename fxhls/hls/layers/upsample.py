"""Upsample in the HLS backend (templates/hls/layers/upsample.h): each pixel repeated
along its row, each row repeated from a row buffer."""

from __future__ import annotations

from fxhls.templating import render

from .calls import stage_call
from .context import LayerContext

HEADERS = ("upsample.h",)


def upsample_layer(context: LayerContext) -> dict:
    """The C++ of an Upsample node: its config and its stage."""
    node, name = context.node, context.name
    _, height, width = context.graph.tensor(node.inputs[0]).shape
    scale_h, scale_w = node.attrs["scales"]
    values = dict(node=node.name, layer=name, height=height, width=width, scale_h=scale_h, scale_w=scale_w)
    return {"code": render("hls/layers/upsample_config.h.j2", **values),
            "call": stage_call("fxhls::upsample", [f"{name}_config"]), "headers": HEADERS}
