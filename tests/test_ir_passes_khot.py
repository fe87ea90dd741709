"""lower_khot: the shift-add terms of K-hot constants, exact, fewest, largest first."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from fxhls.fixed import FixedType
from fxhls.ir import Graph, Tensor, lower_for_hardware
from fxhls.ir.passes import lower_khot
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx.khot import khot_codes
from qfx_models import qfx_zoo

ZOO = {name: (model, shape) for name, model, shape in qfx_zoo()}


def _lowered(name, tmp_path):
    model, shape = ZOO[name]
    export_onnx(model, torch.randn(2, *shape), tmp_path / f"{name}.onnx")
    return lower_for_hardware(load_onnx(tmp_path / f"{name}.onnx"))


def _fewest_terms(limit_bits: int) -> dict[int, int]:
    """Breadth-first over sums of +-2**j (j < limit_bits): the fewest terms of each integer."""
    fewest, frontier = {0: 0}, {0}
    powers = [sign << j for j in range(limit_bits) for sign in (1, -1)]
    for count in range(1, limit_bits + 1):
        frontier = {v + p for v in frontier for p in powers} - fewest.keys()
        fewest.update(dict.fromkeys(frontier, count))
    return fewest


def _check_terms(tensor: Tensor, k: int) -> None:
    signs, exponents = tensor.facts["terms"]
    assert signs.dtype == exponents.dtype == np.int64
    assert signs.shape == exponents.shape == (*tensor.data.shape, k)
    assert set(np.unique(signs).tolist()) <= {-1, 0, 1}
    for value, s, e in zip(tensor.data.flatten().tolist(), signs.reshape(-1, k).tolist(), exponents.reshape(-1, k).tolist()):
        used = [j for j in range(k) if s[j] != 0]
        assert used == list(range(len(used))), "used terms come first"
        assert all(e[a] > e[b] for a, b in itertools.pairwise(used)), "largest exponent first"
        assert sum(s[j] * 2.0 ** e[j] for j in used) == value


def test_khot_weights_and_batchnorm_scales_get_terms(tmp_path):
    graph = _lowered("khot", tmp_path)
    weights = [graph.tensor(node.inputs[1]) for node in graph.nodes if node.op == "Gemm"]
    for tensor, k in zip(weights, (2, 1)):
        _check_terms(tensor, k)
    cnn = _lowered("cnn", tmp_path)
    conv2 = [graph_node for graph_node in cnn.nodes if graph_node.op == "Conv"][1]
    _check_terms(cnn.tensor(conv2.inputs[1]), 2)
    scales = [cnn.tensor(node.inputs[1]) for node in cnn.nodes if node.op == "Affine"]
    assert [s.facts.get("khot") for s in scales] == [None, 1]
    _check_terms(scales[1], 1)
    assert "terms" not in scales[0].facts


@pytest.mark.parametrize("spelling", ["ap_fixed<8,3>", "ap_ufixed<7,2>", "ap_fixed<6,8>"])
def test_terms_are_the_fewest_for_every_code_of_a_type(spelling):
    t = FixedType.parse(spelling)
    codes = np.arange(t.min_code, t.max_code + 1, dtype=np.float64)
    tensor = Tensor("w", tuple(codes.shape), t, codes * t.lsb, {"khot": t.width})
    lower_khot(Graph([], {"w": tensor}, [], []))
    _check_terms(tensor, t.width)
    fewest = _fewest_terms(t.width + 2)
    used = (tensor.facts["terms"][0] != 0).sum(-1)
    assert used.tolist() == [fewest[int(c)] for c in codes.tolist()]


@pytest.mark.parametrize("spelling,k", [("ap_fixed<8,1>", 1), ("ap_fixed<8,1>", 2), ("ap_ufixed<6,0>", 3)])
def test_every_value_qfx_makes_khot_has_at_most_k_terms(spelling, k):
    t = FixedType.parse(spelling)
    values = khot_codes(t, k).numpy() * t.lsb  # the K-hot values QFX trains with
    tensor = Tensor("w", tuple(values.shape), t, values, {"khot": k})
    lower_khot(Graph([], {"w": tensor}, [], []))
    _check_terms(tensor, k)


def test_a_value_that_is_not_khot_is_refused_by_name():
    t = FixedType(4, 4)
    tensor = Tensor("fc.weight", (3,), t, np.array([1.0, 3.0, -4.0]), {"khot": 1})
    with pytest.raises(ValueError, match=r"'fc.weight' is marked 1-hot, but its value 3.0 needs 2"):
        lower_khot(Graph([], {"fc.weight": tensor}, [], []))
