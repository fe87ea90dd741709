"""Element-wise layers in the HLS backend (templates/hls/layers/elementwise.h): each
output value is the exact C++ expression, cast by the assignment to the output type."""

from __future__ import annotations

from fxhls.templating import render

from . import khot
from .calls import stage_call
from .context import LayerContext
from .conv import cpp_number

HEADERS = ("elementwise.h", "khot.h")


def _simple(function: str, context: LayerContext) -> dict:
    return {"code": "", "call": stage_call(function, [context.inputs[0].beats]), "headers": HEADERS}


def relu_layer(context: LayerContext) -> dict:
    """Relu: x > 0 ? x : 0."""
    return _simple("fxhls::relu", context)


def sign_layer(context: LayerContext) -> dict:
    """Sign: x >= 0 ? +1 : -1."""
    return _simple("fxhls::sign", context)


def cast_layer(context: LayerContext) -> dict:
    """A lone Quantize (not the input cast, which the host does): the assignment's cast."""
    return _simple("fxhls::cast", context)


def add_layer(context: LayerContext) -> dict:
    """Add of two activations (a residual add); the top forks the shortcut's stream."""
    return _simple("fxhls::add", context)


def affine_layer(context: LayerContext) -> dict:
    """Affine: x * scale[c] + shift[c]; a K-hot scale multiplies by shifts and adds."""
    graph, node, name = context.graph, context.node, context.name
    x, scale, shift = (graph.tensor(n) for n in node.inputs)
    channels = context.inputs[0].lanes
    if scale.data.size != channels or shift.data.size != channels:
        raise ValueError(f"node {node.name!r}: Affine needs one scale and shift per channel ({channels}), "
                         f"got {scale.data.size} and {shift.data.size}")
    values = dict(node=node.name, layer=name, channels=channels, beats=context.inputs[0].beats,
                  shift_type=shift.type, shift=[cpp_number(v) for v in shift.data.flatten().tolist()],
                  khot=scale.facts.get("khot"))
    if values["khot"]:
        signs, exponents = khot.khot_terms(scale, node.inputs[1])
        values |= dict(term_type=khot.term_type(x.type, exponents),
                       scale_terms=khot.term_rows(signs.reshape(channels, -1), exponents.reshape(channels, -1)))
        function, params = "fxhls::affine_khot", ("terms", "shift")
    else:
        values |= dict(scale_type=scale.type, scale=[cpp_number(v) for v in scale.data.flatten().tolist()])
        function, params = "fxhls::affine", ("scale", "shift")
    return {
        "code": render("hls/layers/affine_config.h.j2", **values),
        "weights": render("hls/layers/affine_weights.h.j2", **values),
        "call": stage_call(function, [f"{name}_config"], [f"{name}_{p}" for p in params]),
        "headers": HEADERS,
    }
