"""K-hot HLS layers (shift-add kernel: no multiplier on a K-hot weight), compiled with
g++ against ap_fixed.h, equal the IR's exact Conv bit for bit: K = 1 and 2, exact and
narrowed accumulators, weights with fractional and integer terms."""

from __future__ import annotations

import numpy as np
import pytest

from fxhls.fixed import FixedType
from fxhls.hls.dataflow import natural_stream
from fxhls.hls.layers import LayerContext
from fxhls.hls.layers.conv import conv_layer, kernel_kind
from fxhls.hls.layers.dense import dense_layer
from fxhls.ir.execute import execute
from hls_layer_graphs import conv_graph, gemm_graph, random_khot, random_values
from hls_folded_layers import check_fold, folded_program
from hls_layer_harness import LayerCase, LayerProgram

# (in shape, out channels, kernel, strides, pads, x type, weight type, K, acc type, out type)
CASES = [
    ((2, 6, 6), 3, (3, 3), (1, 1), (1, 1), "ap_fixed<8,3>", "ap_fixed<8,2>", 1, None, "ap_fixed<8,4,AP_RND_CONV,AP_SAT>"),
    ((2, 6, 6), 3, (3, 3), (1, 1), (1, 1), "ap_fixed<8,3>", "ap_fixed<8,2>", 2, None, None),
    ((3, 5, 7), 2, (2, 3), (2, 1), (0, 1), "ap_ufixed<6,1>", "ap_fixed<10,6>", 2, None, "ap_fixed<10,7,AP_RND,AP_SAT>"),
    ((1, 7, 7), 4, (3, 3), (2, 2), (1, 1), "ap_ufixed<8,0>", "ap_fixed<8,-1>", 1, None, None),
    ((2, 6, 6), 3, (3, 3), (1, 1), (1, 1), "ap_fixed<8,3>", "ap_fixed<8,2>", 2, "ap_fixed<10,3,AP_RND,AP_SAT>", None),
    ((2, 7, 7), 3, (3, 3), (2, 2), (1, 1), "ap_fixed<8,3>", "ap_fixed<8,2>", 1, "ap_fixed<9,2,AP_TRN,AP_WRAP>",
     "ap_fixed<6,2,AP_RND_CONV,AP_SAT_SYM>"),
]
# Dense (Gemm) with the same kernel: (inputs, outputs, x type, weight type, K, acc type, out type)
DENSE_CASES = [
    (20, 7, "ap_fixed<8,3>", "ap_fixed<8,1>", 1, None, "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"),
    (16, 5, "ap_ufixed<6,2>", "ap_fixed<8,3>", 2, "ap_fixed<9,3,AP_RND,AP_SAT>", None),
]
BIAS_TYPE = "ap_fixed<8,2>"
SAMPLES = 6


def _graph(index, case):
    in_shape, out_c, kernel, strides, pads, x_type, w_type, k, acc, out = case
    generator = np.random.default_rng(index)
    weights = random_khot(w_type, k, (out_c, in_shape[0], *kernel), generator)
    bias = random_values(BIAS_TYPE, (out_c,), generator) if index % 2 == 0 else None
    return conv_graph(in_shape, x_type, weights, w_type, bias, BIAS_TYPE, strides, pads, acc, out, {"khot": k})


def _dense_case(index, case) -> LayerCase:
    n_in, n_out, x_type, w_type, k, acc, out = case
    generator = np.random.default_rng(30 + index)
    weights = random_khot(w_type, k, (n_out, n_in), generator)
    bias = random_values(BIAS_TYPE, (n_out,), generator)
    graph = gemm_graph(n_in, x_type, weights, w_type, bias, BIAS_TYPE, acc, out, {"khot": k})
    x, y = graph.tensor("x"), graph.tensor("y")
    context = LayerContext(graph, graph.nodes[0], f"dense{index}", 1 + index, (natural_stream(x),), natural_stream(y))
    return LayerCase(graph, dense_layer(context))


@pytest.fixture(scope="module")
def program():
    graphs = [_graph(i, case) for i, case in enumerate(CASES)]
    cases = [LayerCase(g, conv_layer(g, g.nodes[0], f"khot{i}", reuse=1 + i % 3)) for i, g in enumerate(graphs)]
    return LayerProgram(cases + [_dense_case(i, case) for i, case in enumerate(DENSE_CASES)])


def test_cases_use_the_khot_kernel_with_k_terms(program):
    for case, layer_case in zip(CASES + DENSE_CASES, program.cases):
        graph = layer_case.graph
        assert kernel_kind(graph, graph.nodes[0]) == "khot"
        signs, _ = graph.tensor("w").facts["terms"]
        k = case[7] if len(case) == 10 else case[4]
        assert signs.shape[-1] == k
        assert int((signs != 0).sum(-1).max()) == k  # some weight does use K terms


@pytest.mark.parametrize("index", range(len(CASES)))
def test_khot_conv_equals_ir(program, index):
    graph = program.cases[index].graph
    x_type = FixedType.parse(CASES[index][5])
    x = random_values(x_type, (SAMPLES, *graph.tensor("x").shape), np.random.default_rng(100 + index))
    x[0], x[1] = x_type.max, x_type.min
    expected = execute(graph, x)[0]
    assert int((program.run(index, x) != expected).sum()) == 0


@pytest.mark.parametrize("index", range(len(DENSE_CASES)))
def test_khot_dense_equals_ir(program, index):
    graph = program.cases[len(CASES) + index].graph
    x_type = FixedType.parse(DENSE_CASES[index][2])
    x = random_values(x_type, (SAMPLES * 4, DENSE_CASES[index][0]), np.random.default_rng(300 + index))
    x[0], x[1] = x_type.max, x_type.min
    expected = execute(graph, x)[0]
    assert int((program.run(len(CASES) + index, x) != expected).sum()) == 0


def test_missing_terms_is_a_clear_error():
    graph = _graph(0, CASES[0])
    del graph.tensor("w").facts["terms"]
    with pytest.raises(ValueError, match="no shift-add terms; run lower_khot"):
        conv_layer(graph, graph.nodes[0], "khot")


@pytest.fixture(scope="module")
def folded():
    graphs = [_graph(i, case) for i, case in enumerate(CASES)]
    return folded_program(graphs + [_dense_case(i, case).graph for i, case in enumerate(DENSE_CASES)])


def test_khot_layers_fold_as_an_mvu_and_equal_the_ir_at_every_fold(folded):
    rows, program = folded
    for position, (reuse, fold) in enumerate(rows):
        graph = program.cases[position].graph
        check_fold(program.cases[position], reuse, fold)
        x_type = graph.tensor("x").type
        x = random_values(x_type, (SAMPLES, *graph.tensor("x").shape), np.random.default_rng(500 + position))
        x[0], x[1] = x_type.max, x_type.min
        assert int((program.run(position, x) != execute(graph, x)[0]).sum()) == 0
    assert {fold for *_, fold in rows} >= {(1, 1)} and len({fold for *_, fold in rows}) > 4
