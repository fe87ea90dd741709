"""The Python API (`fxhls.build`, `fxhls.emulate`, `fxhls.csim`, ...): the CLI's steps as
functions, with `import fxhls` still light."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

import fxhls
from fxhls.onnx import export_onnx
from qfx_models import qfx_zoo

ROOT = Path(__file__).resolve().parents[1]


def test_import_fxhls_loads_no_numerics():
    program = "import sys, fxhls; print(sorted(m for m in ('numpy', 'torch', 'onnx', 'jinja2') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_api_function_is_documented():
    for name in fxhls.__all__:
        assert len(getattr(fxhls, name).__doc__.split()) >= 15, name


def test_build_csim_emulate_and_package(tmp_path):
    _, model, shape = next(entry for entry in qfx_zoo() if entry[0] == "cnn")
    export_onnx(model, torch.randn(2, *shape), tmp_path / "cnn.onnx")
    out = fxhls.build(tmp_path / "cnn.onnx", "ultra96v2", tmp_path / "out", reuse=2)
    assert out == tmp_path / "out" and (out / "design.json").is_file()
    x = np.random.default_rng(0).normal(size=(10, *shape))
    assert int((fxhls.csim(out, x) != fxhls.emulate(tmp_path / "cnn.onnx", x)).sum()) == 0
    archive = fxhls.package(out)
    assert archive.parent == out and tarfile.is_tarfile(archive)
    with pytest.raises(RuntimeError, match="vitis_hls is not on PATH"):
        fxhls.synthesize(out)


def test_reuse_per_layer_reaches_the_design(tmp_path):
    _, model, shape = next(entry for entry in qfx_zoo() if entry[0] == "mlp")
    export_onnx(model, torch.randn(2, *shape), tmp_path / "mlp.onnx")
    every = fxhls.build(tmp_path / "mlp.onnx", "ultra96v2", tmp_path / "every", reuse=4)
    first = fxhls.build(tmp_path / "mlp.onnx", "ultra96v2", tmp_path / "first", reuse={"n1_Gemm": 4})
    reuse_4 = "static const int reuse = 4;"
    assert reuse_4 in (every / "firmware/layers/n1_Gemm.h").read_text()
    assert reuse_4 in (every / "firmware/layers/n3_Gemm.h").read_text()
    assert reuse_4 in (first / "firmware/layers/n1_Gemm.h").read_text()
    assert reuse_4 not in (first / "firmware/layers/n3_Gemm.h").read_text()  # chosen by fxhls for the board


def test_the_readme_example_runs(tmp_path, monkeypatch):
    """The README's "same flow from Python" block, on the QFX zoo's MLP."""
    readme = (ROOT / "README.md").read_text()
    example = readme.split("The same flow from Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    _, model, shape = next(entry for entry in qfx_zoo() if entry[0] == "mlp")
    export_onnx(model, torch.randn(2, *shape), tmp_path / "model.onnx")
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(6, *shape)))
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(example, namespace)
    assert namespace["summary"]["mismatches"] == 0 and namespace["archive"].is_file()
