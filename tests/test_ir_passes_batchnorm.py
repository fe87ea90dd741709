"""fold_batchnorm and drop_redundant_casts: exact (==) before and after, folding only
power-of-two scales into an exact, uncast layer, keeping binary and K-hot facts."""

from __future__ import annotations

import numpy as np
import pytest

from fxhls.fixed import BINARY_TYPE, FixedType, quantize
from fxhls.ir import Graph, Node, Tensor, execute, infer_types, lower_for_hardware
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.passes import drop_redundant_casts, fold_batchnorm, fuse_affine, lower_khot
from fxhls.qfx.khot import khot_codes

INPUT = FixedType.parse("ap_fixed<8,3,AP_RND_CONV,AP_SAT>")
WEIGHT = FixedType.parse("ap_fixed<8,1>")
OUTPUT = FixedType.parse("ap_fixed<12,5,AP_RND,AP_SAT>")


def _cast(name, x, y, t):
    return Node("Quantize", name, [x], [y], type_attrs(FixedType.parse(t)))


def _layer_then_batchnorm(rng, op, weights, scale, shift, facts=None, layer_attrs=None, between=None,
                          weight_type=WEIGHT):
    """input cast -> Gemm/Conv (W, b) -> [cast] -> Mul(scale) -> Add(shift) -> output cast; and random inputs."""
    out_channels = weights.shape[0]
    shape = (out_channels, 1, 1) if op == "Conv" else (out_channels,)
    sample = (weights.shape[1], 5, 5) if op == "Conv" else (weights.shape[1],)
    attrs = {"strides": [1, 1], "pads": [1, 1]} if op == "Conv" else {}
    constants = {"w": (weights, weight_type, facts or {}),
                 "b": (quantize(rng.normal(size=out_channels), "ap_fixed<10,3>"), FixedType(10, 3), {}),
                 "scale": (np.array(scale, dtype=np.float64).reshape(shape), FixedType(12, 4), {}),
                 "shift": (np.array(shift, dtype=np.float64).reshape(shape), FixedType(12, 4), {})}
    tensors = {name: Tensor(name, tuple(data.shape), t, data, dict(f)) for name, (data, t, f) in constants.items()}
    nodes = [_cast("in", "x", "xq", INPUT), Node(op, "layer", ["xq", "w", "b"], ["acc"], {**attrs, **(layer_attrs or {})})]
    if between:
        nodes.append(_cast("between", "acc", "acc_cast", between))
    nodes += [Node("Mul", "mul", [nodes[-1].outputs[0], "scale"], ["m"]), Node("Add", "add", ["m", "shift"], ["y"]),
              _cast("out", "y", "out", OUTPUT)]
    tensors.update({name: Tensor(name) for node in nodes for name in node.outputs})
    tensors["x"] = Tensor("x", sample)
    return infer_types(Graph(nodes, tensors, ["x"], ["out"])), rng.normal(size=(64, *sample)) * 4


def _weights(rng, out_channels=4, in_channels=3, kernel=(), avoid_min=True):
    codes = rng.integers(-127 if avoid_min else -128, 128, size=(out_channels, in_channels, *kernel))
    return codes * WEIGHT.lsb


def _lowered_equal(graph, x):
    expected = execute(graph, x)[0]
    graph = lower_for_hardware(graph)
    assert int((execute(graph, x)[0] != expected).sum()) == 0
    return graph


def _ops(graph):
    return [node.op for node in graph.nodes]


@pytest.mark.parametrize("op,kernel", [("Gemm", ()), ("Conv", (3, 3))])
@pytest.mark.parametrize("scale", [[0.5, -0.5, 0.5, -0.5], [4.0, 4.0, -4.0, 4.0], [1.0, 1.0, 1.0, 1.0]])
def test_power_of_two_scales_fold_into_weights_and_bias(op, kernel, scale):
    rng = np.random.default_rng(0)
    weights = _weights(rng, kernel=kernel)
    graph, x = _layer_then_batchnorm(rng, op, weights, scale, [0.25, -1.5, 3.0, 0.0])
    graph = _lowered_equal(graph, x)
    assert _ops(graph) == ["Quantize", op]
    layer = graph.nodes[1]
    assert layer.attrs["out_type"] == str(OUTPUT) and len(layer.inputs) == 3
    folded = graph.tensor(layer.inputs[1])
    assert folded.type.width <= WEIGHT.width
    per_channel = np.array(scale).reshape(-1, *[1] * (weights.ndim - 1))
    assert (folded.data == weights * per_channel).all()


def test_binary_weights_fold_only_with_unit_scales():
    rng = np.random.default_rng(1)
    signs = np.where(rng.random((4, 6)) < 0.5, -1.0, 1.0)
    for scale, folds in (([1.0, -1.0, -1.0, 1.0], True), ([1.0, 2.0, 1.0, 1.0], False)):
        graph, x = _layer_then_batchnorm(rng, "Gemm", signs, scale, [0.5, 0.0, -2.0, 1.0], facts={"binary": True},
                                         weight_type=BINARY_TYPE)
        graph = _lowered_equal(graph, x)
        assert ("Affine" not in _ops(graph)) == folds
        weights = graph.tensor(graph.nodes[1].inputs[1])
        assert weights.facts == {"binary": True} and set(np.unique(weights.data).tolist()) <= {-1.0, 1.0}


def test_khot_weights_stay_khot_with_their_terms():
    rng = np.random.default_rng(2)
    codes = khot_codes(WEIGHT, 2).numpy()  # the K-hot codes QFX trains with
    weights = codes[rng.integers(1, len(codes), size=(4, 6))] * WEIGHT.lsb  # index 0 is the min code, -1
    graph, x = _layer_then_batchnorm(rng, "Gemm", weights, [0.25, -0.25, 0.25, 0.25], [0.0, 1.0, 0.5, -0.5],
                                     facts={"khot": 2})
    lowered = _lowered_equal(graph, x)
    folded = lowered.tensor(lowered.nodes[1].inputs[1])
    assert folded.facts["khot"] == 2
    signs, exponents = folded.facts["terms"]
    assert ((signs * np.ldexp(1.0, exponents)).sum(-1) == folded.data).all()
    # after lower_khot, folding brings the terms along
    graph, _ = _layer_then_batchnorm(rng, "Gemm", weights, [-2.0, 2.0, 2.0, 2.0], [0.0, 1.0, 0.5, -0.5], facts={"khot": 2})
    graph = fold_batchnorm(fuse_affine(lower_khot(graph)))
    folded = graph.tensor(graph.nodes[1].inputs[1])
    signs, exponents = folded.facts["terms"]
    assert ((signs * np.ldexp(1.0, exponents)).sum(-1) == folded.data).all()


@pytest.mark.parametrize("case", ["not a power of two", "zero scale", "narrowed accumulator", "cast between",
                                  "wider weights", "two readers", "per-pixel scale"])
def test_what_does_not_fold_stays_and_stays_exact(case):
    rng = np.random.default_rng(3)
    op = "Conv" if case == "per-pixel scale" else "Gemm"
    weights = _weights(rng, kernel=(3, 3) if op == "Conv" else (), avoid_min=case != "wider weights")
    scale = {"not a power of two": [0.75, 1.0, 1.0, 1.0], "zero scale": [0.0, 1.0, 1.0, 1.0],
             "wider weights": [-1.0, -1.0, -1.0, -1.0]}.get(case, [0.5, 0.5, 2.0, 0.5])
    attrs = {"acc_type": "ap_fixed<14,4,AP_RND,AP_SAT>"} if case == "narrowed accumulator" else None
    graph, x = _layer_then_batchnorm(rng, op, weights, scale, [0.5, 0.0, -2.0, 1.0], layer_attrs=attrs,
                                     between="ap_fixed<16,6>" if case == "cast between" else None)
    if case == "wider weights":
        graph.tensor("w").data[0, 0] = WEIGHT.min
    if case == "two readers":
        graph.nodes.append(Node("Relu", "also", ["acc"], ["also"]))
        graph.tensors["also"] = Tensor("also")
        graph.outputs.append("also")
    if case == "per-pixel scale":
        scale = graph.tensor("scale")
        scale.data = scale.data * np.array([[1.0] * 5] * 4 + [[2.0] * 5])
        scale.shape = tuple(scale.data.shape)
    graph = _lowered_equal(infer_types(graph), x)
    assert "Affine" in _ops(graph)


@pytest.mark.parametrize("cast", [None, "ap_fixed<24,12>", "ap_fixed<8,4,AP_RND,AP_SAT>"])
def test_an_identity_affine_disappears(cast):
    rng = np.random.default_rng(4)
    graph, x = _layer_then_batchnorm(rng, "Gemm", _weights(rng), [1.0] * 4, [0.0] * 4)
    if cast is None:
        graph.nodes, graph.outputs = graph.nodes[:-1], ["y"]
    else:
        graph.nodes[-1].attrs = type_attrs(FixedType.parse(cast))
    graph = _lowered_equal(infer_types(graph), x)
    assert _ops(graph) == ["Quantize", "Gemm"]
    assert graph.outputs == graph.nodes[1].outputs


def test_only_casts_that_keep_every_value_are_dropped():
    nodes = [_cast("in", "x", "a", "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"), _cast("wider", "a", "b", "ap_fixed<12,4>"),
             _cast("same", "b", "c", "ap_fixed<12,4,AP_RND,AP_SAT>"), _cast("narrower", "c", "d", "ap_fixed<6,3>"),
             _cast("fewer fractional bits", "d", "e", "ap_fixed<6,4>")]
    graph = Graph(nodes, {name: Tensor(name, (3,)) for name in "xabcde"}, ["x"], ["e"])
    x = np.random.default_rng(5).normal(size=(256, 3)) * 4
    expected = execute(infer_types(graph), x)[0]
    graph = drop_redundant_casts(graph)
    assert [node.name for node in graph.nodes] == ["in", "narrower", "fewer fractional bits"]
    assert int((execute(graph, x)[0] != expected).sum()) == 0
