"""`fxhls build` and `fxhls csim` from the command line: the build directory's files,
csim equal to emulate, determinism, atomic output, --force, carried-over tool outputs,
parallelism options and one-line errors for bad input."""

from __future__ import annotations

import csv
import json
from xml.etree import ElementTree

import numpy as np
import pytest
import torch

from fxhls.cli import main
from fxhls.emulation import emulate
from fxhls.hls import build as build_module
from fxhls.hls.build import MARKER, build_project
from fxhls.onnx import export_onnx
from fxhls.sim.csim import run_csim
from qfx_models import qfx_zoo

ZOO = {name: (model, shape) for name, model, shape in qfx_zoo()}


@pytest.fixture
def mlp_file(tmp_path):
    model, shape = ZOO["mlp"]
    export_onnx(model, torch.randn(2, *shape), tmp_path / "mlp.onnx")
    return tmp_path / "mlp.onnx"


def _files(folder):
    """Every file's bytes, by relative path."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(p for p in folder.rglob("*") if p.is_file())}


def test_build_then_csim_equals_emulate(mlp_file, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["build", str(mlp_file), "--board", "ultra96v2"]) == 0
    out = tmp_path / "hls_projects" / "mlp"
    assert "DSP slices" in capsys.readouterr().out
    for name in ("design.json", MARKER, "firmware/mlp.cpp", "firmware/types.h", "firmware/weights/n1_Gemm.h",
                 "tb/mlp_tb.cpp", "tb/input_words.txt", "tb/expected_words.txt", "build_prj.tcl", "Makefile",
                 "report/layers.md", "report/layers.csv", "deploy/design.json", "rtl"):
        assert (out / name).exists(), name
    plot = ElementTree.parse(out / "report" / "layers.svg").getroot()
    assert plot.tag.endswith("svg") and len(plot.findall("{http://www.w3.org/2000/svg}rect")) == 2 * 3
    design = json.loads((out / "design.json").read_text())
    assert design["top"] == "mlp" and design["board"] == "ultra96v2" and len(design["source_sha256"]) == 64
    x = np.random.default_rng(0).normal(size=(300, 16)) * 3
    np.save(tmp_path / "x.npy", x)
    assert main(["csim", str(out), "--input", "x.npy", "--output", "y.npy"]) == 0
    got = np.load(tmp_path / "y.npy")
    assert int((got != emulate(mlp_file, x)).sum()) == 0
    assert int((run_csim(out, x) != got).sum()) == 0  # in two runs of the simulator


def test_a_model_file_name_is_no_code(mlp_file, tmp_path):
    odd = tmp_path / 'my model; "x".onnx'
    odd.write_bytes(mlp_file.read_bytes())
    out, project = build_project(odd, "ultra96v2", tmp_path / "out")
    assert project.design["top"] == "my_model_x" and (out / "firmware" / "my_model_x.cpp").is_file()
    x = np.random.default_rng(1).normal(size=(20, 16))
    assert int((run_csim(out, x) != emulate(mlp_file, x)).sum()) == 0


def test_the_same_model_gives_byte_identical_files(mlp_file, tmp_path):
    first, _ = build_project(mlp_file, "ultra96v2", tmp_path / "a")
    second, _ = build_project(mlp_file, "ultra96v2", tmp_path / "b")
    a, b = _files(first), _files(second)
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []


def test_a_failed_build_leaves_nothing(mlp_file, tmp_path, monkeypatch):
    def failing_deploy(*args, **kwargs):
        raise RuntimeError("deploy failed")

    monkeypatch.setattr(build_module, "write_deploy", failing_deploy)
    with pytest.raises(RuntimeError, match="deploy failed"):
        build_project(mlp_file, "ultra96v2", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.onnx"]


def test_a_failed_rebuild_keeps_the_old_build(mlp_file, tmp_path, monkeypatch):
    out, _ = build_project(mlp_file, "ultra96v2", tmp_path / "out")
    before = _files(out)
    monkeypatch.setattr(build_module, "write_deploy", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        build_project(mlp_file, "ultra96v2", out, clock_mhz=100)
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.onnx", "out"]


def test_a_folder_fxhls_did_not_write_needs_force(mlp_file, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["build", str(mlp_file), "--board", "ultra96v2", "--out", str(out)]) == 2
    assert "was not written by fxhls build; use --force" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "keep me"
    assert main(["build", str(mlp_file), "--board", "ultra96v2", "--out", str(out), "--force"]) == 0
    assert not (out / "notes.txt").exists() and (out / MARKER).is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["build", str(mlp_file), "--board", "ultra96v2", "--out", str(empty)]) == 0


def test_a_rebuild_keeps_what_the_vendor_tools_made(mlp_file, tmp_path):
    out, project = build_project(mlp_file, "ultra96v2", tmp_path / "out")
    (out / "deploy" / "mlp.bit").write_bytes(b"bitstream")
    (out / "ip").mkdir()
    (out / "ip" / "component.xml").write_text("ip")
    build_project(mlp_file, "ultra96v2", out, test_inputs=np.ones((2, 16)))  # same sources: the IP still fits
    assert (out / "ip" / "component.xml").read_text() == "ip"
    build_project(mlp_file, "ultra96v2", out, clock_mhz=200)  # another clock: the IP is stale
    assert not (out / "ip").exists()
    (out / "ip").mkdir()
    assert (out / "deploy" / "mlp.bit").read_bytes() == b"bitstream"
    model, shape = ZOO["khot"]
    other = tmp_path / "other"
    other.mkdir()
    export_onnx(model, torch.randn(2, *shape), other / "mlp.onnx")
    build_project(other / "mlp.onnx", "ultra96v2", out)  # new firmware: the old IP is stale
    assert not (out / "ip").exists()
    assert (out / "deploy" / "mlp.bit").read_bytes() == b"bitstream"  # the driver checks its design hash


def test_reuse_options_reach_the_project(mlp_file, tmp_path):
    assert main(["build", str(mlp_file), "--board", "ultra96v2", "--out", str(tmp_path / "a"),
                 "--reuse", "4", "--reuse", "3/Gemm=3"]) == 0
    with open(tmp_path / "a" / "report" / "layers.csv") as table:
        rows = list(csv.DictReader(table))
    assert {row["layer"]: row["reuse"] for row in rows} == {"n1_Gemm": "4", "n2_Relu": "1", "n3_Gemm": "3"}
    assert [row["onnx_node"] for row in rows] == ["1/Gemm", "2/Relu", "3/Gemm"]  # the model's module paths
    assert "static const int reuse = 4;" in (tmp_path / "a" / "firmware" / "layers" / "n1_Gemm.h").read_text()


def test_the_automatic_reuse_fits_the_dsp_budget(mlp_file, tmp_path):
    _, free = build_project(mlp_file, "ultra96v2", tmp_path / "a")
    _, tight = build_project(mlp_file, "ultra96v2", tmp_path / "b",
                             parallelism=build_module.ParallelismOptions(dsp_budget=4))
    assert free.summary["dsp"] <= 360 and tight.summary["dsp"] <= 4 < free.summary["dsp"]
    assert tight.summary["interval"] > free.summary["interval"]


@pytest.mark.parametrize("arguments,message", [
    (["--board", "nosuchboard"], "unknown board 'nosuchboard'; known boards: pynq-z2, ultra96v2, zcu104"),
    (["--board", "ultra96v2", "--reuse", "two"], "--reuse takes N or LAYER=N"),
    (["--board", "ultra96v2", "--reuse", "2/Relu=2"], "layer '2/Relu' does not fold"),
    (["--board", "ultra96v2", "--reuse", "nolayer=2"], "no layer 'nolayer' to set the reuse of"),
    (["--board", "ultra96v2", "--reuse", "0"], "must be a positive integer"),
    (["--board", "ultra96v2", "--clock-mhz", "-5"], "the clock must be a positive number"),
])
def test_bad_build_options_are_one_line_errors(arguments, message, mlp_file, tmp_path, capsys):
    assert main(["build", str(mlp_file), "--out", str(tmp_path / "out"), *arguments]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_bad_csim_input_is_a_one_line_error(mlp_file, tmp_path, capsys):
    assert main(["build", "missing.onnx", "--board", "ultra96v2"]) == 2
    assert "model file missing.onnx not found" in capsys.readouterr().err
    np.save(tmp_path / "x.npy", np.zeros((3, 5)))
    assert main(["csim", str(tmp_path), "--input", str(tmp_path / "x.npy"), "--output", "y.npy"]) == 2
    assert f"design.json not found: {tmp_path} is not a project written by `fxhls build`" in capsys.readouterr().err
    out, _ = build_project(mlp_file, "ultra96v2", tmp_path / "out")
    assert main(["csim", str(out), "--input", str(tmp_path / "x.npy"), "--output", "y.npy"]) == 2
    assert "inputs must be a batch of shape (batch, 16), got (3, 5)" in capsys.readouterr().err


@pytest.mark.parametrize("file_name, board_name", [("ultra96v2.yaml", "ultra96v2"), ("lab.yaml", "lab-u96")])
def test_a_board_file_is_the_board_of_every_generated_file(mlp_file, tmp_path, file_name, board_name):
    from fxhls.board import boards_dir

    text = (boards_dir() / "ultra96v2.yaml").read_text().replace("xczu3eg-sbva484-1-i", "xczu3eg-sfvc784-2-e")
    board = tmp_path / "boards" / file_name
    board.parent.mkdir()
    board.write_text(text.replace("name: ultra96v2", f"name: {board_name}"))
    assert main(["build", str(mlp_file), "--board", str(board), "--out", str(tmp_path / "out")]) == 0
    out = tmp_path / "out"
    for script in ("build_prj.tcl", "deploy/block_design.tcl"):
        assert '"xczu3eg-sfvc784-2-e"' in (out / script).read_text() and "sbva484" not in (out / script).read_text()
    design = json.loads((out / "design.json").read_text())
    assert design["board"] == board_name and design["board_fields"]["part"] == "xczu3eg-sfvc784-2-e"


def test_test_labels_reach_the_deploy_package(mlp_file, tmp_path):
    x = np.random.default_rng(2).normal(size=(6, 16))
    labels = np.array([0, 1, 2, 3, 0, 1])
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", labels)
    out = tmp_path / "out"
    assert main(["build", str(mlp_file), "--board", "ultra96v2", "--out", str(out), "--test-inputs",
                 str(tmp_path / "x.npy"), "--test-labels", str(tmp_path / "y.npy")]) == 0
    assert (np.load(out / "deploy" / "labels.npy") == labels).all()
    np.save(tmp_path / "short.npy", labels[:4])
    assert main(["build", str(mlp_file), "--board", "ultra96v2", "--out", str(tmp_path / "bad"), "--test-inputs",
                 str(tmp_path / "x.npy"), "--test-labels", str(tmp_path / "short.npy")]) == 2
    assert not (tmp_path / "bad").exists()


def test_one_target_fps_folds_both_backends(mlp_file, tmp_path):
    import re

    out = tmp_path / "out"
    assert main(["build", str(mlp_file), "--board", "ultra96v2", "--out", str(out), "--target-fps", "2000000"]) == 0
    design = json.loads((out / "design.json").read_text())
    rtl_text = (out / "rtl" / f"{design['top']}.v").read_text()
    rtl_cycles = int(re.search(r"Estimated (\d+) clocks per sample", rtl_text).group(1))
    layers = list(csv.DictReader((out / "report" / "layers.csv").open()))
    hls_cycles = max(int(row["cycles"]) for row in layers)
    assert hls_cycles <= 125 and rtl_cycles <= 125  # 250 MHz / 2,000,000 FPS
    assert main(["build", str(mlp_file), "--board", "ultra96v2", "--out", str(tmp_path / "no"), "--target-fps",
                 "1e12"]) == 2
    assert not (tmp_path / "no").exists()
