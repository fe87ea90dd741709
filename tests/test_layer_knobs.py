"""Per-layer parallelism knobs (`--reuse [LAYER=]N`, `--simd-pe LAYER=SxP`, the config file's
`reuse`/`simd`/`pe`, the API's `reuse=`/`simd_pe=`) reach both backends as one fold.

On the bundled MNIST CNN and the binary CNN of the QFX zoo: knobs from the command line and
from a config file give each Conv and Gemm the same SIMD x PE and the same estimated clocks
per sample in the HLS report and the RTL's stage rows; the RTL co-simulated interval equals
its estimate; csim == emulate and cosim == emulate with == at the knobbed fold; bad knobs
are refused in one line naming the layer and what it takes.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from fxhls.api import build as api_build
from fxhls.cli import main
from fxhls.emulation import emulate
from fxhls.model_config import read_config
from fxhls.onnx import export_onnx
from fxhls.sim.csim import run_csim
from fxhls.sim.rtl_cosim import cosim_design
from qfx_models import qfx_zoo

MNIST = "examples/models/mnist_khot_cnn"
BINARY = next((model, shape) for name, model, shape in qfx_zoo() if name == "binary")


def _layer_folds(out):
    """{ONNX node: (HLS (SIMD, PE), HLS clocks, HLS set by, RTL (SIMD, PE), RTL clocks, RTL set by)}
    of each Conv and Gemm, from the HLS report and the RTL's stage rows."""
    hls = {row["onnx_node"]: row for row in csv.DictReader((out / "report" / "layers.csv").open()) if row["set_by"]}
    rtl = {row["node"]: row for row in json.loads((out / "rtl" / "stages.json").read_text())["stages"]
           if "set_by" in row}
    assert hls.keys() == rtl.keys()
    folds = {}
    for node, row in hls.items():
        simd, pe = (int(v) for v in row["simd_pe"].split(" x "))
        rtl_simd, rtl_pe = (int(part.split("=")[1]) for part in rtl[node]["folding"].split(", "))
        folds[node] = ((simd, pe), int(row["cycles"]), row["set_by"], (rtl_simd, rtl_pe), rtl[node]["clocks"],
                       rtl[node]["set_by"])
    return folds


def _assert_one_fold(folds, expected):
    """Each layer: the expected SIMD x PE and the knob that set it, the same in both backends,
    and the same clocks per sample."""
    for node, ((simd_pe, clocks, set_by, rtl_simd_pe, rtl_clocks, rtl_set_by), (want, want_set_by)) in \
            ((node, (folds[node], expected[node])) for node in expected):
        assert simd_pe == rtl_simd_pe == want, node
        assert clocks == rtl_clocks, node
        assert set_by == rtl_set_by == want_set_by, node


# conv1: 1 channel, 3x3, 8 outputs: reuse 9 is 72 / 9 = 8 lanes, the least parallel 1 x 8 (one
# tap a beat); fc: 784 x 10, reuse 100: at least 79 lanes, the least parallel 16 x 5 (98 steps).
MNIST_EXPECTED = {"conv1/Conv": (1, 8), "conv2/Conv": (24, 4), "fc/Gemm": (16, 5)}


def test_mnist_knobs_from_the_command_line_and_a_config_file(tmp_path, capsys):
    model = f"{MNIST}.onnx"
    cli = tmp_path / "cli"
    assert main(["build", model, "--board", "ultra96v2", "--out", str(cli), "--reuse", "conv1/Conv=9",
                 "--simd-pe", "conv2/Conv=24x4", "--reuse", "fc/Gemm=100", "--backend", "rtl"]) == 0
    printed = capsys.readouterr().out
    assert "  conv2/Conv: SIMD=24, PE=4, 2352 clocks per sample (set by --simd-pe conv2/Conv=24x4)" in printed
    _assert_one_fold(_layer_folds(cli), {
        "conv1/Conv": (MNIST_EXPECTED["conv1/Conv"], "--reuse conv1/Conv=9"),
        "conv2/Conv": (MNIST_EXPECTED["conv2/Conv"], "--simd-pe conv2/Conv=24x4"),
        "fc/Gemm": (MNIST_EXPECTED["fc/Gemm"], "--reuse fc/Gemm=100")})

    config = tmp_path / "knobs.yaml"
    config.write_text('reuse: 100\nlayers:\n  "conv*":\n    reuse: 9\n  conv2/Conv:\n    simd: 24\n    pe: 4\n')
    from_file = tmp_path / "config"
    assert main(["build", model, "--board", "ultra96v2", "--out", str(from_file), "--config", str(config),
                 "--backend", "hls"]) == 0
    assert "  fc/Gemm: reuse 98, SIMD x PE 16 x 5, 98 clocks per sample" in capsys.readouterr().out
    _assert_one_fold(_layer_folds(from_file), {
        "conv1/Conv": (MNIST_EXPECTED["conv1/Conv"], f"{config}: layers entry 'conv*'"),
        "conv2/Conv": (MNIST_EXPECTED["conv2/Conv"], f"{config}: layers entry 'conv2/Conv'"),
        "fc/Gemm": (MNIST_EXPECTED["fc/Gemm"], f"{config}: reuse")})
    # the build records the knobs it took
    nodes = list(MNIST_EXPECTED)
    assert read_config(from_file / "config.yaml").knobs(nodes)[:2] == read_config(config).knobs(nodes)[:2]


def test_mnist_at_a_knobbed_fold_cosim_and_csim_equal_the_emulator(tmp_path):
    """The RTL's co-simulated interval equals its estimate (the slowest stage: conv1 at 1 x 8,
    7,056 clocks) and its outputs the emulator's; so do csim's."""
    out = tmp_path / "mnist"
    api_build(f"{MNIST}.onnx", "ultra96v2", out, reuse={"conv1/Conv": 9, "fc/Gemm": 100},
              simd_pe={"conv2/Conv": (24, 4)})
    folds = _layer_folds(out)
    assert {node: fold[0] for node, fold in folds.items()} == MNIST_EXPECTED
    assert folds["conv2/Conv"][2] == "build(simd_pe=)"
    x = np.load(f"{MNIST}_inputs.npy")[:4]
    expected = emulate(f"{MNIST}.onnx", x)
    assert int((run_csim(out, x) != expected).sum()) == 0
    _, summary = cosim_design(out, x, f"{MNIST}.onnx", rtl="fxhls")
    assert summary["mismatches"] == 0
    assert summary["interval_cycles"] == max(fold[4] for fold in folds.values()) == 7056


@pytest.fixture
def binary_model(tmp_path):
    model, shape = BINARY
    export_onnx(model.eval(), torch.randn(2, *shape), tmp_path / "binary.onnx")
    return tmp_path / "binary.onnx"


def _binary_nodes(model):
    from fxhls.onnx import load_onnx

    graph = load_onnx(model)
    return [node.name for node in graph.nodes if node.op in ("Conv", "Gemm")]


def test_binary_cnn_knobs_reach_both_backends_and_cosim_equals_emulate(binary_model, tmp_path):
    """`fxhls build --backend rtl --reuse ...` end to end on the zoo's binary CNN (a binary
    3x3 Conv of 2 channels to 4 on 7x7, a binary Gemm 100 -> 3): a reuse for every layer
    (the Conv's 72 products at reuse 12: 6 lanes; of 6 x 1 and 3 x 2, both 3 window taps a
    beat, the larger SIMD) and the Gemm's SIMD x PE from a config file, which wins: 10 x 1,
    30 clocks, more than the 25 beats of its flattened input (where the input's beats set a
    Gemm's pace the HLS estimate counts them, the RTL's stage row its folds alone)."""
    conv, gemm = _binary_nodes(binary_model)
    config = tmp_path / "knobs.yaml"
    config.write_text(f"layers:\n  {gemm}:\n    simd: 10\n    pe: 1\n")
    out = tmp_path / "build"
    assert main(["build", str(binary_model), "--board", "ultra96v2", "--out", str(out), "--backend", "rtl",
                 "--reuse", "12", "--config", str(config)]) == 0
    folds = _layer_folds(out)
    _assert_one_fold(folds, {conv: ((6, 1), "--reuse 12"), gemm: ((10, 1), f"{config}: layers entry '{gemm}'")})
    x = np.random.default_rng(3).normal(size=(6, *BINARY[1])) * 2
    _, summary = cosim_design(out, x, binary_model)
    assert summary["measured"].startswith("fxhls's Verilog") and summary["mismatches"] == 0
    rows = json.loads((out / "rtl" / "stages.json").read_text())["stages"]
    assert summary["interval_cycles"] == max(row["clocks"] for row in rows)
    assert int((run_csim(out, x) != emulate(binary_model, x)).sum()) == 0


@pytest.mark.parametrize("options,message", [
    (["--simd-pe", "conv1/Conv=5x8"], "layer 'conv1/Conv' (--simd-pe conv1/Conv=5x8): SIMD x PE 5 x 8 is no fold of "
                                      "it: SIMD is a divisor of its channels, or its channels times a divisor of its "
                                      "kernel positions (1, 3, 9), PE a divisor of its 8 outputs (1, 2, 4, 8)"),
    (["--simd-pe", "fc/Gemm=3x5"], "layer 'fc/Gemm' (--simd-pe fc/Gemm=3x5): SIMD x PE 3 x 5 is no fold of it: SIMD "
                                   "is a divisor of its inputs (1, 2, 4, 7, 8, 14, 16, 28, 49, 56, 98, 112, 196, 392, "
                                   "784), PE a divisor of its 10 outputs (1, 2, 5, 10)"),
    (["--reuse", "fc/Gemm=7841"], "layer 'fc/Gemm' (--reuse fc/Gemm=7841): a reuse factor is a whole number from 1 to "
                                  "its 7840 multiplications per input vector, got 7841"),
    (["--reuse", "nosuch=3"], "no layer 'nosuch' to set the reuse of; the Conv and Gemm layers are "
                              "conv1/Conv, conv2/Conv, fc/Gemm"),
    (["--reuse", "bn1/Add=2"], "layer 'bn1/Add' does not fold (only Conv and Gemm layers take a reuse factor or a "
                               "SIMD x PE)"),
    (["--reuse", "conv1/Conv=2", "--simd-pe", "conv1/Conv=9x8"], "layer 'conv1/Conv' is given both a reuse factor "
                                                                 "and a SIMD x PE: give one"),
    (["--simd-pe", "conv1/Conv=9"], "--simd-pe takes LAYER=SIMDxPE with SIMD and PE positive integers, got "
                                    "'conv1/Conv=9'"),
    (["--simd-pe", "conv1/Conv=0x8"], "--simd-pe takes LAYER=SIMDxPE with SIMD and PE positive integers, got "
                                      "'conv1/Conv=0x8'"),
])
def test_bad_knobs_are_refused_in_one_line(options, message, tmp_path, capsys):
    out = tmp_path / "build"
    assert main(["build", f"{MNIST}.onnx", "--board", "ultra96v2", "--out", str(out), *options]) != 0
    assert capsys.readouterr().err == f"fxhls build: error: {message}\n"
    assert not out.exists()


@pytest.mark.parametrize("entry,message", [
    ("{simd: 9}", "layers entry 'conv1/Conv': give simd and pe together"),
    ("{reuse: 2, simd: 9, pe: 8}", "layers entry 'conv1/Conv': give a reuse factor or a simd and pe, not both"),
    ("{simd: 0, pe: 8}", "layers entry 'conv1/Conv': simd: a SIMD is a positive integer, got 0"),
    ("{simd: 5, pe: 8}", "layer 'conv1/Conv' ({config}: layers entry 'conv1/Conv'): SIMD x PE 5 x 8 is no fold of it"),
])
def test_bad_knobs_in_a_config_file_are_refused_in_one_line(entry, message, tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text(f"layers:\n  conv1/Conv: {entry}\n")
    assert main(["build", f"{MNIST}.onnx", "--board", "ultra96v2", "--out", str(tmp_path / "b"), "--config",
                 str(config)]) != 0
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message.format(config=config) in error
