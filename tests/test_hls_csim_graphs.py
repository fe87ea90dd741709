"""C simulation equals the IR bit for bit on hardware graphs built to reach every
framework path: forks with three readers, a residual Add, Affine, Relu, a lone cast,
max, average and global average pooling (1/N not a power of two), a multi-pixel
Flatten read by a narrowed-accumulator Gemm (the ONNX (C, H, W) order: a wrong order
changes the sums), a Flatten stage, a regrouping Reshape, Sign, 8/16/32-bit lanes,
signed and unsigned streams."""

from __future__ import annotations

import pytest

from fxhls.fixed import dot_with_bias

from fxhls.hls.dataflow import plan_dataflow
from fxhls.hls.naming import safe_graph
from fxhls.ir import execute
from hls_build_helpers import GraphBuilder, csim_against_ir, sample_inputs

POOL = {"kernel_shape": [2, 2], "strides": [2, 2]}


def residual_graph():
    """An image through Affine, Relu and a lone cast, read by a Conv, a residual Add and
    a GlobalAveragePool; pooled, flattened into a narrowed Gemm, added to the GAP."""
    b = GraphBuilder((3, 6, 5), "ap_fixed<8,3,AP_RND_CONV,AP_SAT>")
    x = b.add("Affine", [b.last, b.constant("ap_fixed<6,2>", (3, 1, 1)), b.constant("ap_fixed<8,3>", (3, 1, 1))],
              {"out_type": "ap_fixed<10,4,AP_RND,AP_SAT>"})
    x = b.add("Relu", [x], {"out_type": "ap_ufixed<8,3,AP_TRN,AP_SAT>"})
    image = b.add("Quantize", [x], {"width": 6, "int_bits": 2, "signed": 0, "rounding": "AP_RND_CONV",
                                    "overflow": "AP_SAT"})
    conv = b.add("Conv", [image, b.constant("ap_fixed<6,1>", (3, 3, 3, 3)), b.constant("ap_fixed<8,2>", (3,))],
                 {"strides": [1, 1], "pads": [1, 1], "out_type": "ap_fixed<12,5,AP_RND,AP_SAT>"})
    total = b.add("Add", [conv, image], {"out_type": "ap_fixed<12,5,AP_RND,AP_SAT>"})
    pooled = b.add("AveragePool", [total], {"kernel_shape": [2, 2], "strides": [2, 1],
                                            "out_type": "ap_fixed<12,5,AP_RND,AP_SAT>"})
    flat = b.add("Flatten", [pooled])  # (3, 3, 4) -> 36 values
    dense = b.add("Gemm", [flat, b.constant("ap_fixed<6,1>", (3, 36)), b.constant("ap_fixed<8,2>", (3,))],
                  {"acc_type": "ap_fixed<10,3,AP_RND_CONV,AP_SAT>"})
    gap = b.add("GlobalAveragePool", [image], {"reciprocal_type": "ap_ufixed<12,0,AP_RND_CONV,AP_SAT>",
                                               "out_type": "ap_fixed<10,3,AP_RND,AP_SAT>"})
    b.add("Add", [dense, b.add("Flatten", [gap])], {"out_type": "ap_fixed<20,8>"})
    return b.graph()


def binary_graph():
    """Sign of an image, flattened into a Relu (a Flatten stage), reshaped into pixels of
    one value (a regroup), max pooled, cast to a 20-bit type (32-bit lanes)."""
    b = GraphBuilder((2, 3, 4), "ap_fixed<6,2,AP_RND_CONV,AP_SAT>")
    x = b.add("Relu", [b.add("Flatten", [b.add("Sign", [b.last])])])
    x = b.add("Reshape", [x], {"shape": [1, 24, 1]})
    x = b.add("MaxPool", [x], {"kernel_shape": [2, 1], "strides": [2, 1]})
    b.add("Quantize", [x], {"width": 20, "int_bits": 8, "signed": 1, "rounding": "AP_TRN", "overflow": "AP_WRAP"})
    return b.graph()


def flatten_output_graph():
    """An unsigned image flattened as the graph's output: the stream carries (C, H, W) order;
    8-bit unsigned values fill their lanes (no sign extension may touch the top bit)."""
    b = GraphBuilder((3, 2, 2), "ap_ufixed<8,2,AP_RND,AP_SAT>")
    b.add("Flatten", [b.last])
    return b.graph()


GRAPHS = {"residual": residual_graph, "binary": binary_graph, "flatten_output": flatten_output_graph}


@pytest.mark.parametrize("name", GRAPHS)
def test_csim_equals_the_ir(name, tmp_path):
    graph = GRAPHS[name]()
    x = sample_inputs(graph.tensor("x").shape, 24, seed=len(name))
    got, expected = csim_against_ir(graph, tmp_path, x, name)
    assert got.shape == expected.shape
    assert int((got != expected).sum()) == 0


def test_the_graphs_reach_the_paths_they_claim():
    residual = plan_dataflow(safe_graph(residual_graph())[0])
    forks = [stage for stage in residual.stages if stage.node is None]
    assert len(forks) == 2, "three readers of the cast image: two forks"
    ops = [stage.node.op for stage in residual.stages if stage.node is not None]
    assert "Flatten" not in ops, "the GAP's one-pixel Flatten shares its stream; the Gemm reads the other's pixels"
    gemm = next(stage for stage in residual.stages if stage.node is not None and stage.node.op == "Gemm")
    assert residual.streams[gemm.in_tensors[0]].beats == 12, "the Gemm reads the pooled image's 12 pixels"
    binary = plan_dataflow(safe_graph(binary_graph())[0])
    assert [stage.node.op for stage in binary.stages] == ["Sign", "Flatten", "Relu", "Reshape", "MaxPool", "Quantize"]


def test_a_wrong_flatten_order_would_be_seen():
    """The narrowed Gemm reading the flattened image: given the pixels in stream order
    (H, W, C) instead of ONNX order (C, H, W) it computes other outputs, so the equality
    above checks the order."""
    graph = residual_graph()
    gemm = next(node for node in graph.nodes if node.op == "Gemm")
    image = next(node for node in graph.nodes if node.outputs == [gemm.inputs[0]]).inputs[0]
    graph.outputs = [image]
    pooled = execute(graph, sample_inputs(graph.tensor("x").shape, 24, seed=3))[0]
    weights, bias = (graph.tensor(name).data for name in gemm.inputs[1:])
    onnx_order = dot_with_bias(pooled.reshape(len(pooled), -1), weights, bias, gemm.attrs["acc_type"])
    stream_order = dot_with_bias(pooled.transpose(0, 2, 3, 1).reshape(len(pooled), -1), weights, bias,
                                 gemm.attrs["acc_type"])
    assert int((onnx_order != stream_order).sum()) > 0
