"""Flatten, Reshape and Transpose in the HLS backend, where they need a stage (the
dataflow planner gives the others no stage: their stream is their input's); Concat
of two streams on the channel axis (`fxhls.ir.passes.split_concat` makes every Concat one)."""

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


def concat_layer(context: LayerContext) -> dict:
    """Concat of two tensors on the channel axis: per beat (pixel), the first input's
    values, then the second's."""
    node, beats = context.node, context.output.beats
    if len(context.inputs) != 2 or any(stream.beats != beats for stream in context.inputs):
        raise ValueError(f"node {node.name!r}: the HLS Concat joins two streams of {beats} beats, got "
                         f"{[stream.beats for stream in context.inputs]}; run fxhls.ir.passes.lower_for_hardware first")
    return {"code": "", "call": stage_call("fxhls::concat", [beats]), "headers": ("stream.h",)}
