"""Flatten, Reshape and Transpose in the HLS backend, where they need a stage (the
dataflow planner gives the others no stage: their stream is their input's)."""

from __future__ import annotations

from .calls import stage_call
from .context import LayerContext


def reorder_layer(context: LayerContext) -> dict:
    """Flatten of an image of several pixels: one beat in ONNX (C, H, W) order.
    Reshape/Transpose (only where the stream order stays): the values in beats of
    the output's size."""
    source = context.inputs[0]
    if context.node.op == "Flatten":
        call = stage_call("fxhls::flatten", [source.beats])
    else:
        call = stage_call("fxhls::regroup", [source.values])
    return {"code": "", "call": call, "headers": ("stream.h",)}
