"""The IR's Concat (a join of samples along a sample axis, inputs of one type) and grouped Conv:
shapes and types inferred, refusals in one line naming the node."""

from __future__ import annotations

import numpy as np
import pytest

from fxhls.fixed import FixedType
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


def test_concat_refuses_two_types_and_mismatched_shapes():
    node = Node("Concat", "cat", ["a", "b"], ["y"], {"axis": 1})
    with pytest.raises(ValueError, match=r"^Concat 'cat': its inputs have the types .* they must have one type"):
        OPS["Concat"].infer(node, [Tensor("a", (2, 3), A), Tensor("b", (2, 3), B)])
    with pytest.raises(ValueError, match=r"^Concat 'cat': cannot join shapes \[\(2, 3\), \(4, 3\)\] on axis 1"):
        OPS["Concat"].infer(node, [Tensor("a", (2, 3), A), Tensor("b", (4, 3), A)])


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
