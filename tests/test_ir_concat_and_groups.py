"""The IR's Concat (a join of samples along a sample axis, in the inputs' common type) and grouped Conv:
shapes and types inferred, refusals in one line naming the node."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhls.fixed import FixedType, common_type, quantize
from fxhls.ir import Node, Tensor
from fxhls.ir.ops import OPS

A = FixedType.parse("ap_fixed<8,3>")
B = FixedType.parse("ap_fixed<8,4>")


def test_concat_joins_on_a_sample_axis_and_keeps_the_type():
    node = Node("Concat", "cat", ["a", "b"], ["y"], {"axis": 0})
    assert OPS["Concat"].infer(node, [Tensor("a", (2, 3), A), Tensor("b", (5, 3), A)]) == [((7, 3), A)]
    a, b = np.arange(12.0).reshape(2, 2, 3), -np.arange(30.0).reshape(2, 5, 3)
    (y,) = OPS["Concat"].execute(node, [a, b])
    assert np.array_equal(y[:, :2], a) and np.array_equal(y[:, 2:], b)


def test_concat_joins_two_types_in_their_common_type_and_refuses_mismatched_shapes():
    node = Node("Concat", "cat", ["a", "b"], ["y"], {"axis": 1})
    assert OPS["Concat"].infer(node, [Tensor("a", (2, 3), A), Tensor("b", (2, 3), B)]) == [
        ((2, 6), FixedType.parse("ap_fixed<9,4>"))]
    with pytest.raises(ValueError, match=r"^Concat 'cat': cannot join shapes \[\(2, 3\), \(4, 3\)\] on axis 1"):
        OPS["Concat"].infer(node, [Tensor("a", (2, 3), A), Tensor("b", (4, 3), A)])


TYPES = st.builds(lambda width, int_bits, signed: FixedType(width, int_bits, signed),
                  st.integers(1, 20), st.integers(-4, 24), st.booleans())


@settings(max_examples=200, deadline=None)
@given(st.lists(TYPES, min_size=2, max_size=4), st.integers(0, 2**32))
def test_the_common_type_holds_every_value_of_each_type_and_no_fewer_bits_would(types, seed):
    joined = common_type(types)
    rng = np.random.default_rng(seed)
    for t in types:
        codes = np.concatenate([[t.min_code, t.max_code, 0], rng.integers(t.min_code, t.max_code, 16, endpoint=True)])
        values = codes * t.lsb
        assert np.array_equal(quantize(values, joined), values), (t, joined)
    assert joined.frac_bits == max(t.frac_bits for t in types)
    assert joined.signed == any(t.signed for t in types)
    narrower = FixedType(joined.width - 1, joined.int_bits - 1, joined.signed) if joined.width > 1 else None
    if narrower is not None:
        assert any(not (narrower.min <= t.min and t.max <= narrower.max) for t in types)


def test_a_grouped_conv_reads_only_its_groups_channels():
    node = Node("Conv", "conv", ["x", "w"], ["y"], {"strides": [1, 1], "pads": [0, 0], "groups": 2})
    x = np.zeros((1, 4, 3, 3))
    x[:, 2:] = 1.0  # only the second group's input channels are non-zero
    w = np.ones((2, 2, 3, 3))  # one output channel per group
    (y,) = OPS["Conv"].execute(node, [x, w])
    assert y.shape == (1, 2, 1, 1) and y[0, 0, 0, 0] == 0 and y[0, 1, 0, 0] == 18


def test_a_conv_whose_channels_do_not_split_into_its_groups_is_refused():
    node = Node("Conv", "conv", ["x", "w"], ["y"], {"strides": [1, 1], "pads": [0, 0], "groups": 3})
    with pytest.raises(ValueError, match=r"^Conv 'conv': 4 input and 2 output channels do not split into 3 groups"):
        OPS["Conv"].infer(node, [Tensor("x", (4, 3, 3), A), Tensor("w", (2, 2, 3, 3), A)])


def test_a_concat_of_three_is_split_into_two_joins_with_the_same_values():
    from fxhls.ir import Graph, execute, infer_types
    from fxhls.ir.ops.quantize import type_attrs
    from fxhls.ir.passes import split_concat

    tensors = {name: Tensor(name) for name in ("q", "r", "y")} | {"x": Tensor("x", (3, 2, 2))}
    nodes = [Node("Quantize", "cast", ["x"], ["q"], type_attrs(A)),
             Node("Quantize", "narrow", ["q"], ["r"], type_attrs(FixedType.parse("ap_ufixed<6,4>"))),
             Node("Concat", "join", ["q", "r", "q"], ["y"], {"axis": 0})]
    graph = infer_types(Graph(nodes, tensors, ["x"], ["y"]))
    x = np.random.default_rng(0).normal(size=(5, 3, 2, 2)) * 4
    expected = execute(graph, x)[0]
    split_concat(graph)
    joins = [node for node in graph.nodes if node.op == "Concat"]
    assert [len(node.inputs) for node in joins] == [2, 2] and joins[1].inputs[0] == joins[0].outputs[0]
    assert graph.tensor("y").shape == (9, 2, 2) and str(graph.tensor("y").type) == "ap_fixed<10,5>"
    assert np.array_equal(execute(graph, x)[0], expected)
