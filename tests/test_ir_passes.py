"""Passes keep the graph's exact execution and leave the form backends consume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fxhls.ir import execute, lower_for_hardware
from fxhls.ir.passes import fold_constants, fuse_affine, fuse_quantize, infer_types
from fxhls.onnx import export_onnx, load_onnx
from qfx_models import qfx_zoo

ZOO = list(qfx_zoo())


def _exported(name, model, shape, tmp_path):
    x = torch.randn(32, *shape) * 2
    export_onnx(model, x[:2], tmp_path / f"{name}.onnx")
    return load_onnx(tmp_path / f"{name}.onnx"), x.numpy()


@pytest.mark.parametrize("name,model,shape", ZOO, ids=[name for name, _, _ in ZOO])
@pytest.mark.parametrize("passes", [(fold_constants,), (fold_constants, fuse_quantize),
                                    (fold_constants, fuse_quantize, fuse_affine), (lower_for_hardware,)],
                         ids=["fold", "fuse_quantize", "fuse_affine", "all"])
def test_each_pass_keeps_the_exact_output(name, model, shape, passes, tmp_path):
    graph, x = _exported(name, model, shape, tmp_path)
    expected = execute(graph, x)[0]
    for step in passes:
        graph = step(graph)
    graph = infer_types(graph)
    got = execute(graph, x)[0]
    assert int((got != expected).sum()) == 0


@pytest.mark.parametrize("name,model,shape", ZOO, ids=[name for name, _, _ in ZOO])
def test_lowered_graph_has_one_node_per_stage(name, model, shape, tmp_path):
    graph, _ = _exported(name, model, shape, tmp_path)
    before = {node.op for node in graph.nodes}
    graph = lower_for_hardware(graph)
    casts = [node for node in graph.nodes if node.op == "Quantize"]
    assert [node.inputs for node in casts] == [graph.inputs], "only the input cast is left"
    for name_, tensor in graph.tensors.items():
        if tensor.data is not None:
            assert tensor.type is not None, name_
    for node in graph.nodes:
        out = graph.tensor(node.outputs[0])
        assert out.type is not None and out.shape is not None, node.name
    if "Mul" in before:  # BatchNorm: an Affine, or gone where it was the identity
        assert "Mul" not in {node.op for node in graph.nodes}


def test_folded_weights_keep_their_facts(tmp_path):
    graph, _ = _exported(*next((n, m, s) for n, m, s in ZOO if n == "khot"), tmp_path)
    graph = lower_for_hardware(graph)
    facts = [graph.tensor(node.inputs[1]).facts for node in graph.nodes if node.op == "Gemm"]
    assert [f.get("khot") for f in facts] == [2, 1]
    binary, _ = _exported(*next((n, m, s) for n, m, s in ZOO if n == "binary"), tmp_path)
    binary = lower_for_hardware(binary)
    weights = [binary.tensor(node.inputs[1]) for node in binary.nodes if node.op in ("Conv", "Gemm")]
    assert weights[0].facts == {"binary": True}
    assert set(np.unique(weights[0].data).tolist()) <= {-1.0, 1.0}
