"""The HLS Conv layer (line buffer, MAC kernel), compiled with g++ against ap_fixed.h,
equals the IR's exact Conv bit for bit: paddings, strides, kernel sizes, channel
counts, signed and unsigned inputs, exact and narrowed accumulators, folding."""

from __future__ import annotations

import numpy as np
import pytest

from fxhls.fixed import FixedType, quantize
from fxhls.hls.layers.conv import conv_layer
from fxhls.ir.execute import execute
from hls_layer_graphs import conv_graph, random_values
from hls_layer_harness import LayerCase, LayerProgram

# (in shape (C, H, W), out channels, kernel (kh, kw), strides, pads, x type, acc type, out type, bias, reuse)
CASES = [
    ((2, 6, 6), 3, (3, 3), (1, 1), (1, 1), "ap_fixed<8,3>", None, "ap_fixed<8,4,AP_RND_CONV,AP_SAT>", True, 1),
    ((3, 7, 7), 4, (3, 3), (2, 2), (0, 0), "ap_fixed<6,2>", None, None, False, 1),
    ((2, 5, 6), 2, (2, 3), (2, 1), (1, 2), "ap_fixed<7,3>", None, "ap_fixed<10,5,AP_RND,AP_WRAP>", True, 1),
    ((4, 4, 5), 2, (1, 1), (1, 1), (0, 0), "ap_ufixed<6,2>", None, None, True, 1),
    ((1, 8, 8), 2, (5, 5), (1, 1), (2, 2), "ap_ufixed<8,0>", None, "ap_fixed<8,2,AP_TRN,AP_SAT>", True, 1),
    ((2, 3, 3), 5, (3, 3), (1, 1), (0, 0), "ap_fixed<8,3>", None, None, True, 1),
    ((3, 9, 8), 2, (4, 4), (3, 2), (1, 1), "ap_fixed<8,3>", None, "ap_fixed<12,6>", False, 1),
    ((2, 6, 6), 3, (3, 3), (1, 1), (1, 1), "ap_fixed<8,3>", None, "ap_fixed<8,4,AP_RND_CONV,AP_SAT>", True, 4),
    # narrowed accumulators: every partial sum rounds and overflows, in the IR's order
    ((2, 6, 6), 3, (3, 3), (1, 1), (1, 1), "ap_fixed<8,3>", "ap_fixed<10,3,AP_RND,AP_SAT>", None, True, 1),
    ((2, 7, 7), 3, (3, 3), (2, 2), (1, 1), "ap_fixed<8,3>", "ap_fixed<9,2,AP_TRN,AP_WRAP>", None, True, 1),
    ((3, 5, 5), 2, (2, 2), (1, 1), (1, 1), "ap_ufixed<8,3>", "ap_fixed<9,3,AP_RND_CONV,AP_SAT_SYM>",
     "ap_fixed<6,3,AP_RND,AP_SAT>", True, 2),
    ((2, 6, 5), 4, (3, 1), (1, 2), (0, 1), "ap_fixed<8,3>", "ap_fixed<8,2,AP_RND_ZERO,AP_SAT_ZERO>", None, False, 1),
]
WEIGHT_TYPE, BIAS_TYPE = "ap_fixed<6,1>", "ap_fixed<8,2>"
SAMPLES = 6


def _graph(index, case):
    in_shape, out_c, kernel, strides, pads, x_type, acc, out, has_bias, _ = case
    generator = np.random.default_rng(index)
    weights = random_values(WEIGHT_TYPE, (out_c, in_shape[0], *kernel), generator)
    bias = random_values(BIAS_TYPE, (out_c,), generator) if has_bias else None
    return conv_graph(in_shape, x_type, weights, WEIGHT_TYPE, bias, BIAS_TYPE, strides, pads, acc, out)


@pytest.fixture(scope="module")
def program():
    graphs = [_graph(i, case) for i, case in enumerate(CASES)]
    cases = [LayerCase(g, conv_layer(g, g.nodes[0], f"conv{i}", reuse=CASES[i][-1])) for i, g in enumerate(graphs)]
    return LayerProgram(cases)


@pytest.mark.parametrize("index", range(len(CASES)))
def test_conv_equals_ir(program, index):
    graph = program.cases[index].graph
    x_type = FixedType.parse(CASES[index][5])
    x = random_values(x_type, (SAMPLES, *graph.tensor("x").shape), np.random.default_rng(100 + index))
    x[0] = x_type.max  # the extremes: the largest sums
    x[1] = x_type.min
    expected = execute(graph, x)[0]
    got = program.run(index, x)
    assert got.shape == expected.shape
    assert int((got != expected).sum()) == 0


@pytest.mark.parametrize("index", [i for i, case in enumerate(CASES) if case[6] is not None])
def test_narrowed_cases_depend_on_the_order(program, index):
    """The narrowed cases round or overflow on the way: casting the exact sum once
    into the accumulator differs somewhere, so the equality above checks the order."""
    graph = program.cases[index].graph
    x = random_values(CASES[index][5], (SAMPLES, *graph.tensor("x").shape), np.random.default_rng(100 + index))
    layer = graph.nodes[0]
    narrowed = execute(graph, x)[0]
    attrs = dict(layer.attrs)
    layer.attrs = {key: value for key, value in attrs.items() if key not in ("acc_type", "out_type")}
    try:
        cast_once = quantize(execute(graph, x)[0], attrs["acc_type"])
    finally:
        layer.attrs = attrs
    if "out_type" in attrs:
        cast_once = quantize(cast_once, attrs["out_type"])
    assert int((narrowed != cast_once).sum()) > 0
