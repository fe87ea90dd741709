"""`fxhls cosim DIR` and the RTL simulator of the file protocol, on a build directory
whose top is written by hand (words -> unpack -> ReLU -> pack -> words) with the ports
of the Vitis HLS top. Expected outputs: the IR's execution (fxhls.hls.vectors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import jinja2
import numpy as np
import pytest

from fxhls.cli import main
from fxhls.deploy.interface import stream_interface
from fxhls.deploy.transports import read_words, write_words
from fxhls.fixed import FixedType
from fxhls.hls import vectors
from fxhls.ir import Graph, Node, Tensor, infer_types
from fxhls.ir.ops.quantize import type_attrs
from fxhls.rtl.library import library_sources
from fxhls.sim.rtl_cosim import cosim_design

SHAPE = (3, 2, 4)  # C, H, W: a pixel of 3 channels per beat
X_TYPE = FixedType.parse("ap_fixed<8,3>")
Y_TYPE = FixedType.parse("ap_ufixed<6,2,AP_RND,AP_SAT>")


def _graph(y_type: FixedType = Y_TYPE) -> Graph:
    tensors = {"x": Tensor("x", SHAPE), "q": Tensor("q"), "y": Tensor("y")}
    nodes = [Node("Quantize", "cast", ["x"], ["q"], type_attrs(X_TYPE)),
             Node("Relu", "relu", ["q"], ["y"], {"out_type": str(y_type)})]
    return infer_types(Graph(nodes, tensors, ["x"], ["y"]))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A build directory: design.json, rtl/ (library modules and the top), tb/ vectors."""
    folder = tmp_path_factory.mktemp("relu_design")
    graph = _graph()
    design = stream_interface(graph, "relu design", "ultra96v2", 250)
    (folder / "design.json").write_text(json.dumps(design))
    rtl = folder / "rtl"
    rtl.mkdir()
    for source in library_sources("fxhls_unpack", "fxhls_relu", "fxhls_pack", "fxhls_fifo"):
        (rtl / source.name).write_text(source.read_text())
    template = jinja2.Template((Path(__file__).parent / "rtl" / "relu_top.v.j2").read_text())
    (rtl / f"{design['top']}.v").write_text(template.render(
        top=design["top"], x=X_TYPE, y=Y_TYPE, lanes=SHAPE[0], values=design["input"]["values"],
        x_lane=design["input"]["lane"], y_lane=design["output"]["lane"]))
    x = vectors.random_inputs(design, samples=5, seed=3)
    (folder / "tb").mkdir()
    write_words(folder / "tb" / "input_words.txt", vectors.to_words(design["input"], x).reshape(-1))
    expected = vectors.expected_outputs(graph, x)
    write_words(folder / "tb" / "expected_words.txt", vectors.to_words(design["output"], expected).reshape(-1))
    return SimpleNamespace(folder=folder, design=design, graph=graph, x=x, expected=expected)


def test_cosim_of_the_testbench_vectors_equals_the_emulator(built, tmp_path, capsys):
    y_path = tmp_path / "y.npy"
    assert main(["cosim", str(built.folder), "--output", str(y_path)]) == 0
    out = capsys.readouterr().out
    assert f"0 of {built.expected.size} output values differ from the emulator" in out
    assert np.array_equal(np.load(y_path), built.expected)
    summary = json.loads((built.folder / "report" / "cosim.json").read_text())
    # 24 values a sample, 3 a beat: the ReLU stage takes 8 clocks per sample, and the
    # converters add at most 2 (the output waits for a sample's last word to leave).
    assert 8 <= summary["interval_cycles"] <= 10
    assert summary["fps"] == 250e6 / summary["interval_cycles"]
    assert summary["samples"] == 5 and summary["mismatches"] == 0 and summary["latency_cycles"] > 8


def test_cosim_counts_the_values_that_differ(built):
    """Compared with a model that rounds the ReLU's output otherwise (AP_TRN), the RTL differs where the modes do."""
    other = _graph(Y_TYPE.with_modes(rounding="AP_TRN"))
    differ = int((vectors.expected_outputs(other, built.x) != built.expected).sum())
    y, summary = cosim_design(built.folder, built.x, model=other, pause=0.2, seed=4)
    assert np.array_equal(y, built.expected)
    assert summary["mismatches"] == differ > 0


def test_cosim_of_npy_inputs_casts_them_as_the_host_does(built, tmp_path, capsys):
    raw = np.random.default_rng(1).normal(0, 2, size=(3, *SHAPE))
    np.save(tmp_path / "x.npy", raw)
    assert main(["cosim", str(built.folder), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")]) == 0
    assert "not compared: give --model" in capsys.readouterr().out
    want = vectors.expected_outputs(built.graph, vectors.cast_inputs(built.design, raw))
    assert np.array_equal(np.load(tmp_path / "y.npy"), want)


def test_the_file_protocol_simulator(built, tmp_path):
    command = [sys.executable, "-m", "fxhls.sim.rtl_cosim", str(built.folder)]
    in_path, out_path = tmp_path / "in.txt", tmp_path / "out.txt"
    write_words(in_path, read_words(built.folder / "tb" / "input_words.txt"))
    run = subprocess.run([*command, str(in_path), str(out_path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert np.array_equal(read_words(out_path), read_words(built.folder / "tb" / "expected_words.txt"))

    write_words(in_path, read_words(built.folder / "tb" / "input_words.txt")[:-1])
    run = subprocess.run([*command, str(in_path), str(out_path)], capture_output=True, text=True, check=False)
    assert run.returncode == 1
    words = built.design["input"]["words"]
    message = f"fxhls rtl simulator: {words * 5 - 1} input words are not a whole number of samples of {words} words"
    assert run.stderr.strip().splitlines() == [message]


def test_cosim_without_rtl_says_what_to_run(tmp_path, capsys):
    (tmp_path / "design.json").write_text(json.dumps(stream_interface(_graph(), "relu design", "ultra96v2", 250)))
    assert main(["cosim", str(tmp_path)]) == 2
    assert "no Verilog in" in capsys.readouterr().err


def test_cosim_says_which_design_it_measured(built, capsys):
    """Backend hls (design.json names none) without a Vitis export: fxhls's Verilog, and why."""
    assert main(["cosim", str(built.folder)]) == 0
    said = capsys.readouterr().out
    assert "co-simulated fxhls's Verilog" in said and "Vitis HLS has not exported the HLS design" in said
    assert main(["cosim", str(built.folder), "--rtl", "hls"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "--rtl hls: no Vitis HLS export in" in error[0]
