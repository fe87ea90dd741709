"""K-hot and binary HLS layers compiled at several folds of their MVU (mvu.h), for the
layer tests: each case's program at every fold of FOLDS, and the checks of a fold."""

from __future__ import annotations

from fxhls.hls.dataflow import natural_stream
from fxhls.hls.layers import LayerContext
from fxhls.hls.layers.conv import conv_layer, lane_fold
from fxhls.hls.layers.dense import dense_layer
from fxhls.rtl.folding import vector_steps
from hls_layer_harness import LayerCase, LayerProgram

# Reuse factors, each the clocks per window or vector of the least parallel fold within it
# (None: the most folded, SIMD = PE = 1).
FOLDS = (2, 6, None)


def compute_layer(graph):
    """The graph's Conv or Gemm."""
    return next(node for node in graph.nodes if node.op in ("Conv", "Gemm"))


def folded_program(graphs) -> tuple[list, LayerProgram]:
    """(reuse, (simd, pe)) of every graph at every fold of FOLDS, in order, and one program
    of all those layers."""
    rows, cases = [], []
    for graph in graphs:
        node = compute_layer(graph)
        x, y = graph.tensor(node.inputs[0]), graph.tensor(graph.outputs[0])
        for reuse in (fold or graph.tensor(node.inputs[1]).data.size for fold in FOLDS):
            name = f"folded{len(cases)}"
            context = LayerContext(graph, node, name, reuse, (natural_stream(x),), natural_stream(y))
            layer = conv_layer(graph, node, name, reuse) if node.op == "Conv" else dense_layer(context)
            rows.append((reuse, lane_fold(graph, node, reuse)))
            cases.append(LayerCase(graph, layer))
    return rows, LayerProgram(cases)


def check_fold(case: LayerCase, reuse: int, fold: tuple[int, int]) -> None:
    """The layer's SIMD x PE is `fold`, its vector takes at most `reuse` clocks, and the
    most folded reuse (one clock per weight) is SIMD = PE = 1."""
    simd, pe = fold
    node = compute_layer(case.graph)
    assert vector_steps(case.graph, node, simd, pe) <= reuse
    assert f"static const int simd = {simd}, pe = {pe};" in case.layer["code"]
    if reuse == case.graph.tensor(node.inputs[1]).data.size:
        assert fold == (1, 1)
