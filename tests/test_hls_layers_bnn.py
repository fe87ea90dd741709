"""Binary HLS layers (-1/+1 weights as bits: XNOR-popcount on -1/+1 inputs, add/subtract
on fixed-point inputs), compiled with g++ against ap_fixed.h, equal the IR bit for bit:
with fused thresholds (both directions, zero padding), with a bias and a cast."""

from __future__ import annotations

import numpy as np
import pytest

from fxhls.fixed import BINARY_TYPE, FixedType
from fxhls.hls.dataflow import natural_stream
from fxhls.hls.layers import LayerContext
from fxhls.hls.layers.bnn_threshold import threshold_layer
from fxhls.hls.layers.conv import conv_layer, kernel_kind
from fxhls.hls.layers.dense import dense_layer
from fxhls.ir.execute import execute
from hls_layer_graphs import (binary_input_graph, conv_graph, gemm_graph, random_values, threshold_graph,
                              with_threshold)
from hls_folded_layers import FOLDS, check_fold, compute_layer as _layer, folded_program
from hls_layer_harness import LayerCase, LayerProgram

# (in shape, out channels, kernel, strides, pads, x type (BINARY: -1/+1 inputs), bias, threshold, out type)
CASES = [
    ((3, 6, 6), 4, (3, 3), (1, 1), (0, 0), BINARY_TYPE, False, True, None),
    ((3, 6, 6), 4, (3, 3), (1, 1), (1, 1), BINARY_TYPE, False, True, None),
    ((5, 7, 6), 3, (2, 3), (2, 1), (1, 0), BINARY_TYPE, False, True, None),
    ((3, 6, 6), 4, (3, 3), (1, 1), (1, 1), BINARY_TYPE, True, False, "ap_fixed<6,4,AP_RND,AP_SAT>"),
    ((2, 5, 5), 3, (3, 3), (2, 2), (1, 1), BINARY_TYPE, False, False, None),
    ((2, 7, 7), 4, (3, 3), (1, 1), (1, 1), FixedType.parse("ap_fixed<8,3>"), True, False, "ap_fixed<8,4,AP_RND_CONV,AP_SAT>"),
    ((2, 6, 6), 3, (3, 3), (2, 2), (0, 0), FixedType.parse("ap_ufixed<6,2>"), False, False, None),
]
SAMPLES = 6
# Dense (Gemm) with the same kernel: (inputs, outputs, x type, bias, threshold, out type)
DENSE_CASES = [
    (40, 6, BINARY_TYPE, False, True, None),
    (40, 6, BINARY_TYPE, True, False, "ap_fixed<7,5,AP_RND,AP_SAT>"),
    (12, 4, FixedType.parse("ap_fixed<8,3>"), True, False, None),
]
# Thresholds that are stages of their own: (in shape, x type)
THRESHOLD_CASES = [((3, 4, 5), "ap_fixed<8,3>"), ((6,), "ap_ufixed<6,2>")]


def _graph(index, case):
    in_shape, out_c, kernel, strides, pads, x_type, has_bias, threshold, out = case
    generator = np.random.default_rng(index)
    weights = np.where(generator.random((out_c, in_shape[0], *kernel)) < 0.5, -1.0, 1.0)
    bias = random_values("ap_fixed<8,3>", (out_c,), generator) if has_bias else None
    graph = conv_graph(in_shape, x_type, weights, BINARY_TYPE, bias, "ap_fixed<8,3>", strides, pads, None, out,
                       {"binary": True})
    if x_type == BINARY_TYPE:
        graph = binary_input_graph(graph)
    if threshold:
        taps = weights[0].size
        thresholds = generator.integers(-taps // 2, taps // 2 + 1, size=(out_c,)).astype(np.float64)
        graph = with_threshold(graph, thresholds, [1 if o % 2 == 0 else -1 for o in range(out_c)])
    return graph


def _dense_graph(index, case):
    n_in, n_out, x_type, has_bias, threshold, out = case
    generator = np.random.default_rng(40 + index)
    weights = np.where(generator.random((n_out, n_in)) < 0.5, -1.0, 1.0)
    bias = random_values("ap_fixed<8,3>", (n_out,), generator) if has_bias else None
    graph = gemm_graph(n_in, x_type, weights, BINARY_TYPE, bias, "ap_fixed<8,3>", None, out, {"binary": True})
    if x_type == BINARY_TYPE:
        graph = binary_input_graph(graph)
    if threshold:
        limits = generator.integers(-n_in // 3, n_in // 3 + 1, size=(n_out,)).astype(np.float64)
        graph = with_threshold(graph, limits, [1 if o % 2 else -1 for o in range(n_out)])
    return graph


def _dense_case(index, case) -> LayerCase:
    graph = _dense_graph(index, case)
    layer = _layer(graph)
    x, y = graph.tensor(layer.inputs[0]), graph.tensor(graph.outputs[0])
    context = LayerContext(graph, layer, f"bdense{index}", 1, (natural_stream(x),), natural_stream(y))
    return LayerCase(graph, dense_layer(context))


def _threshold_case(index, in_shape, x_type) -> LayerCase:
    generator = np.random.default_rng(50 + index)
    channels = in_shape[0]
    thresholds = random_values(x_type, (channels,), generator)  # values x can take: equality is reachable
    graph = threshold_graph(in_shape, x_type, thresholds, [1 if c % 3 else -1 for c in range(channels)])
    x, z = graph.tensor("x"), graph.tensor("z")
    context = LayerContext(graph, graph.nodes[0], f"threshold{index}", 1, (natural_stream(x),), natural_stream(z))
    return LayerCase(graph, threshold_layer(context))


@pytest.fixture(scope="module")
def program():
    graphs = [_graph(i, case) for i, case in enumerate(CASES)]
    cases = [LayerCase(g, conv_layer(g, _layer(g), f"bnn{i}", reuse=1 + i % 2)) for i, g in enumerate(graphs)]
    cases += [_threshold_case(i, *case) for i, case in enumerate(THRESHOLD_CASES)]
    return LayerProgram(cases + [_dense_case(i, case) for i, case in enumerate(DENSE_CASES)])


def _inputs(index, shape):
    x_type = CASES[index][5]
    generator = np.random.default_rng(100 + index)
    if x_type == BINARY_TYPE:
        return np.where(generator.random((SAMPLES, *shape)) < 0.5, -1.0, 1.0)
    x = random_values(x_type, (SAMPLES, *shape), generator)
    x[0], x[1] = x_type.max, x_type.min
    return x


def test_cases_use_the_binary_kernel(program):
    for layer_case in program.cases[:len(CASES)] + program.cases[len(CASES) + len(THRESHOLD_CASES):]:
        assert kernel_kind(layer_case.graph, _layer(layer_case.graph)) == "bnn"


@pytest.mark.parametrize("index", range(len(CASES)))
def test_binary_conv_equals_ir(program, index):
    graph = program.cases[index].graph
    x = _inputs(index, graph.tensor("x").shape)
    expected = execute(graph, x)[0]
    if CASES[index][7]:
        assert set(np.unique(expected).tolist()) == {-1.0, 1.0}  # the thresholds split the outputs
    assert int((program.run(index, x) != expected).sum()) == 0


@pytest.mark.parametrize("index", range(len(THRESHOLD_CASES)))
def test_threshold_stage_equals_ir(program, index):
    in_shape, x_type = THRESHOLD_CASES[index]
    x = random_values(x_type, (SAMPLES * 4, *in_shape), np.random.default_rng(200 + index))
    graph = program.cases[len(CASES) + index].graph
    x[:, 0] = graph.tensor("thr").data[0]  # channel 0 at its threshold: the comparison's edge
    expected = execute(graph, x)[0]
    assert set(np.unique(expected).tolist()) == {-1.0, 1.0}
    assert int((program.run(len(CASES) + index, x) != expected).sum()) == 0


@pytest.mark.parametrize("index", range(len(DENSE_CASES)))
def test_binary_dense_equals_ir(program, index):
    n_in, _, x_type, _, threshold, _ = DENSE_CASES[index]
    generator = np.random.default_rng(400 + index)
    if x_type == BINARY_TYPE:
        x = np.where(generator.random((SAMPLES * 4, n_in)) < 0.5, -1.0, 1.0)
    else:
        x = random_values(x_type, (SAMPLES * 4, n_in), generator)
    position = len(CASES) + len(THRESHOLD_CASES) + index
    graph = program.cases[position].graph
    expected = execute(graph, x)[0]
    if threshold:
        assert set(np.unique(expected).tolist()) == {-1.0, 1.0}
    assert int((program.run(position, x) != expected).sum()) == 0


def _binary_inputs(x_type, shape, generator):
    if x_type == BINARY_TYPE:
        return np.where(generator.random(shape) < 0.5, -1.0, 1.0)
    x = random_values(x_type, shape, generator)
    x[0], x[1] = x_type.max, x_type.min
    return x


@pytest.fixture(scope="module")
def folded():
    """The input type of every case, and folded_program's rows and program."""
    graphs = [(_graph(i, case), case[5]) for i, case in enumerate(CASES)]
    graphs += [(_dense_graph(i, case), case[2]) for i, case in enumerate(DENSE_CASES)]
    rows, program = folded_program([graph for graph, _ in graphs])
    x_types = [x_type for _, x_type in graphs for _ in FOLDS]
    return x_types, rows, program


def test_binary_layers_fold_as_an_mvu_and_equal_the_ir_at_every_fold(folded):
    x_types, rows, program = folded
    for position, (x_type, (reuse, fold)) in enumerate(zip(x_types, rows)):
        graph = program.cases[position].graph
        check_fold(program.cases[position], reuse, fold)
        x = _binary_inputs(x_type, (SAMPLES, *graph.tensor(graph.inputs[0]).shape), np.random.default_rng(600 + position))
        assert int((program.run(position, x) != execute(graph, x)[0]).sum()) == 0
    assert len({fold for *_, fold in rows}) > 4
