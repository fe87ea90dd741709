"""Softmax and ArgMax in the HLS backend (templates/hls/layers/softmax.h): the IR's tables
(`fxhls.ir.ops.softmax`) as ROMs of integer codes, one pixel (all its channels) per beat."""

from __future__ import annotations

from fxhls.fixed import FixedType
from fxhls.ir.ops.softmax import exp_entries, reciprocal_entries, softmax_types, sum_range
from fxhls.templating import render

from .calls import stage_call
from .context import LayerContext
from .conv import code_type

HEADERS = ("softmax.h",)


def _whole_pixels(context: LayerContext) -> None:
    stream, classes = context.inputs[0], context.graph.tensor(context.node.inputs[0]).shape[0]
    if stream.lanes != classes:
        raise ValueError(f"node {context.node.name!r}: a {context.node.op} takes each pixel's {classes} values in "
                         f"one beat, its input stream has {stream.lanes}")


def softmax_layer(context: LayerContext) -> dict:
    """The C++ of a Softmax node: its config, its two ROMs and the stage."""
    _whole_pixels(context)
    node, name, stream = context.node, context.name, context.inputs[0]
    types = softmax_types(node, stream.type, stream.lanes)
    x = types.x
    values = dict(node=node.name, layer=name, beats=stream.beats, classes=types.classes, in_width=x.width,
                  in_lsb=repr(x.lsb), diff_type=FixedType(x.width, x.int_bits, False), exp_type=types.exp,
                  exp_code_type=code_type(types.exp), exact_sum_type=types.exact_sum, sum_type=types.sum,
                  reciprocal_type=types.reciprocal, reciprocal_code_type=code_type(types.reciprocal),
                  sum_lowest=sum_range(types)[0], exp_entries=exp_entries(x, types.exp).tolist(),
                  reciprocal_entries=reciprocal_entries(types).tolist())
    return {
        "code": render("hls/layers/softmax_config.h.j2", **values),
        "weights": render("hls/layers/softmax_entries.h.j2", **values),
        "call": stage_call("fxhls::softmax", [f"{name}_config"], [f"{name}_exp", f"{name}_reciprocal"]),
        "headers": HEADERS,
    }


def argmax_layer(context: LayerContext) -> dict:
    """The C++ of an ArgMax node: the index of each pixel's largest value."""
    _whole_pixels(context)
    return {"code": "", "call": stage_call("fxhls::argmax", [context.inputs[0].beats]), "headers": HEADERS}
