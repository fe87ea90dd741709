"""Softmax and ArgMax in hardware: C simulation (g++ with the ap_fixed headers) and RTL
co-simulation (Verilator) equal `fxhls emulate` with ==, for float models ending in a
Softmax or an ArgMax exported from torch and built with onnx.helper (a per-pixel Softmax
of an image, a TopK with k = 1); the indices come back as int64; the report lists the tables."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from onnx import helper

from fxhls.cli import main
from fxhls.emulation import emulate
from fxhls.hls.build import build_project
from fxhls.model_config import model_config
from fxhls.sim.csim import run_csim
from deploy_designs import load_driver
from float_models import export_torch, top_class_agreement, torch_float
from test_softmax import _ArgMaxHead, _helper_model, _mlp

DEFAULT = "ap_fixed<16,6>"
NARROW = "ap_fixed<10,4>"  # an exp table of 1,024 entries: quick to build in Verilator


def _torch_model(tmp_path, head: str):
    module = _mlp(torch.nn.Softmax(dim=1) if head == "softmax" else _ArgMaxHead())
    export_torch(module, (8,), tmp_path / "model.onnx")
    return module, tmp_path / "model.onnx"


def _helper(tmp_path, head: str):
    if head == "image softmax":
        node = helper.make_node("Softmax", ["z"], ["y"], name="head", axis=1)
    else:
        node = helper.make_node("TopK", ["z", "k"], ["values", "y"], name="head", axis=1)
    k = [helper.make_tensor("k", 7, [1], [1])]  # int64
    return _helper_model(tmp_path / "model.onnx", [node], image=head == "image softmax", extra_inits=k)


def _csim(tmp_path, path, x, default_type) -> tuple[np.ndarray, np.ndarray]:
    out, _ = build_project(path, "ultra96v2", tmp_path / "build", types=model_config(default_type=default_type))
    return run_csim(out, x), emulate(path, x, default_type=default_type)


@pytest.mark.parametrize("head", ["softmax", "argmax"])
def test_torch_mlp_csim_equals_emulate(tmp_path, head):
    module, path = _torch_model(tmp_path, head)
    x = np.random.default_rng(1).normal(size=(200, 8))
    got, expected = _csim(tmp_path, path, x, DEFAULT)
    assert got.shape == expected.shape and int((got != expected).sum()) == 0
    reference = torch_float(module, x)
    if head == "softmax":
        assert top_class_agreement(expected, reference) >= 0.97
        assert np.abs(expected - reference).max() < 0.01
    else:
        assert got.dtype == expected.dtype == np.int64
        logits = torch_float(_mlp(None), x)
        assert (expected[:, 0] == logits.argmax(axis=1)).mean() >= 0.97


@pytest.mark.parametrize("head", ["image softmax", "topk"])
def test_helper_models_csim_equals_emulate(tmp_path, head):
    path = _helper(tmp_path, head)
    x = np.random.default_rng(2).normal(size=(100, 3, 2, 2) if head == "image softmax" else (100, 8))
    got, expected = _csim(tmp_path, path, x, NARROW)
    assert got.shape == expected.shape and int((got != expected).sum()) == 0
    assert len(np.unique(expected)) > 3


def _cosim(tmp_path, path, x, capsys) -> str:
    np.save(tmp_path / "x.npy", x)
    build = str(tmp_path / "rtl_build")
    assert main(["build", str(path), "--board", "ultra96v2", "--out", build, "--default-type", NARROW,
                 "--backend", "rtl", "-q"]) == 0
    capsys.readouterr()
    assert main(["cosim", build, "--input", str(tmp_path / "x.npy"), "--model", str(path),
                 "--config", f"{build}/config.yaml", "-q"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("head", ["softmax", "argmax"])
def test_torch_mlp_rtl_cosim_equals_emulate(tmp_path, capsys, head):
    _, path = _torch_model(tmp_path, head)
    x = np.random.default_rng(3).normal(size=(40, 8))
    values = 40 * (10 if head == "softmax" else 1)
    assert f"0 of {values} output values differ" in _cosim(tmp_path, path, x, capsys)
    if head == "argmax":  # the deploy driver, on the build's RTL simulator, returns the indices as int64
        y = load_driver(tmp_path / "rtl_build" / "deploy").Accelerator(target="sim").predict(x)
        expected = emulate(path, x, default_type=NARROW)
        assert y.dtype == np.int64 and y.shape == (40, 1) and (y == expected).all()


def test_image_softmax_rtl_cosim_equals_emulate(tmp_path, capsys):
    path = _helper(tmp_path, "image softmax")
    x = np.random.default_rng(4).normal(size=(20, 3, 2, 2))
    assert "0 of 480 output values differ" in _cosim(tmp_path, path, x, capsys)


def test_the_report_lists_the_softmax_tables(tmp_path):
    _, path = _torch_model(tmp_path, "softmax")
    out, _ = build_project(path, "ultra96v2", tmp_path / "build", types=model_config(default_type=DEFAULT))
    report = (out / "report" / "layers.md").read_text()
    assert "| /3/Softmax | Softmax exp | `max - x in ap_fixed<16,6>` | each channel | 9,229 | " \
           "`ap_ufixed<13,1,AP_RND,AP_SAT>` |" in report
    assert "Softmax reciprocal | `sum in ap_ufixed<14,4,AP_RND,AP_SAT>, codes 1024 to 10240` | each pixel | 9,217 |" \
        in report
