"""Nothing from a model file runs as code: a model whose file name, graph name, doc string,
node, tensor and initializer names are hostile (line breaks, quotes, comment closers,
`$system`, `[exec]`, backticks, `$(...)`, backslashes, NUL, unicode, keywords of every
generated language, 10,000 characters) builds; its C simulation, RTL co-simulation,
notebook (driver under the simulation target) and Tcl (tclsh with Vivado/Vitis stand-ins)
run, nothing they run touches the canary file, and csim == cosim == emulate."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from deploy_designs import run_notebook
from qfx_models import qfx_zoo
from test_deploy_vivado import MOCK_VIVADO
from test_hls_build_scripts import MOCK_VITIS

from fxhls.emulation import emulate
from fxhls.hls.build import build_project
from fxhls.onnx import export_onnx
from fxhls.sim.csim import run_csim
from fxhls.sim.rtl_cosim import cosim_design
from fxhls.sim.verilator import verilator_bin_dir

CANARY = "pwned_canary"


def payloads(canary: str) -> list[str]:
    """Strings that would run `touch canary` (or break the file) if pasted raw into C++,
    Verilog, Tcl, Python, shell, Makefile, Markdown or a notebook."""
    touch = f"touch {canary}"
    return [
        f'a\n$system("{touch}");\n//', f'"); __import__("os").system("{touch}"); ("',
        f'"""\nimport os; os.system("{touch}")\n"""', f"[exec {touch}]", f"`{touch}`", f"$({touch})",
        f'*/ initial $system("{touch}"); /*', "\\", "tail\\", "a\\\nb", "nul\x00byte", "\u540d\u524d \u00fcn\u00ef",
        "module", "input", "wire", "reg", "begin", "logic", "ap_clk", "assert", "EOF", "errno", "class", "lambda",
        "proc", "#define int float", f"}}\nexec {touch}\n{{", "<script>alert(1)</script>", "??/", "\r\n# %%\n",
        "x" * 10_000, f'x\ninitial $system("{touch}");\n//', combined(canary),
    ]


def combined(canary: str) -> str:
    """One name that is live code in every generated language after a line break."""
    touch = f"touch {canary}"
    return (f'n\ninitial $system("{touch}");\n`define x\n"); __import__("os").system("{touch}"); ("\n'
            f'"""\n[exec {touch}]\n$({touch})\n`{touch}`\n*/ system("{touch}"); /*\n}}\n')


def hostile_model(folder, canary: str):
    """The QFX MLP of the test zoo exported, then every name in its graph replaced by a payload."""
    model, shape = next((m, s) for name, m, s in qfx_zoo() if name == "mlp")
    plain = folder / "plain.onnx"
    export_onnx(model, torch.randn(2, *shape), plain)
    proto = onnx.load(plain)
    names = iter(payloads(canary) * 10)
    graph = proto.graph
    renamed = {}
    for value in [*graph.input, *graph.output, *graph.initializer, *graph.value_info]:
        renamed.setdefault(value.name, f"{len(renamed)}{next(names)}")
    for node in graph.node:
        for name in [*node.input, *node.output]:
            if name:
                renamed.setdefault(name, f"{len(renamed)}{next(names)}")
    for value in [*graph.input, *graph.output, *graph.initializer, *graph.value_info]:
        value.name = renamed[value.name]
    for index, node in enumerate(graph.node):
        node.name = f"{index}{combined(canary)}"
        node.input[:] = [renamed.get(name, name) for name in node.input]
        node.output[:] = [renamed.get(name, name) for name in node.output]
        node.doc_string = next(names)
    graph.name, graph.doc_string, proto.doc_string = next(names), next(names), next(names)
    hostile = folder / f'm"); __import__("os").system("touch {CANARY}"); (\n[exec touch {CANARY}] `touch {CANARY}` $(touch {CANARY}) module.onnx'
    onnx.save(proto, hostile)
    return hostile, shape


def canaries(*folders) -> list:
    return [path for folder in folders for path in folder.rglob(CANARY)]


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    model, shape = hostile_model(folder, str(folder / CANARY))
    board = folder / "lab.yaml"
    board.write_text(_board_text("lab-board.v2"))
    out, project = build_project(model, str(board), folder / "build", test_inputs=None)
    x = np.random.default_rng(0).normal(0, 2, size=(8, *shape))
    return folder, model, out, x


def _board_text(name: str) -> str:
    from fxhls.board import boards_dir

    return (boards_dir() / "ultra96v2.yaml").read_text().replace("name: ultra96v2", f"name: {name}")


def test_hostile_names_build_and_simulate_equal(hostile_build):
    folder, model, out, x = hostile_build
    expected = emulate(model, x)
    csim = run_csim(out, x)
    cosim, summary = cosim_design(out, x, model)
    assert int((csim != expected).sum()) == 0
    assert int((cosim != expected).sum()) == 0 and summary["mismatches"] == 0
    assert not canaries(folder)


def test_hostile_names_notebook_and_tcl_run_nothing(hostile_build, monkeypatch, tmp_path):
    folder, model, out, x = hostile_build
    simulator = shlex.join([sys.executable, "-m", "fxhls.sim.rtl_cosim", str(out)])
    text = run_notebook(out / "deploy", monkeypatch, sim_command=simulator)
    assert "output values differ from the emulator" in text
    deploy = tmp_path / "deploy"
    shutil.copytree(out / "deploy", deploy)
    vivado = subprocess.run(["tclsh", str(MOCK_VIVADO), str(tmp_path / "calls.log"), "1", "1", "block_design.tcl"],
                            cwd=deploy, capture_output=True, text=True)
    assert vivado.returncode == 0, vivado.stderr
    assert "create_project" in (tmp_path / "calls.log").read_text()
    shutil.copytree(out / "rtl", tmp_path / "rtl")  # package_ip.tcl (the RTL backend) reads ../rtl
    packaging = subprocess.run(["tclsh", str(MOCK_VIVADO), str(tmp_path / "ipx.log"), "1", "1", "package_ip.tcl"],
                               cwd=deploy, capture_output=True, text=True)
    assert packaging.returncode == 0, packaging.stderr
    assert "ipx::save_core core" in (tmp_path / "ipx.log").read_text()
    hls = tmp_path / "hls"
    shutil.copytree(out, hls)
    (hls / "mock.tcl").write_text("set steps {}\n" + MOCK_VITIS)
    vitis = subprocess.run(["tclsh", "mock.tcl"], cwd=hls, capture_output=True, text=True)
    assert vitis.returncode == 0, vitis.stderr
    assert "set_part xczu3eg-sbva484-1-i" in (hls / "vitis_calls.txt").read_text()
    assert not canaries(folder, tmp_path)


def test_no_generated_file_holds_a_line_break_payload(hostile_build):
    folder, model, out, x = hostile_build
    dangerous = [p for p in payloads(str(folder / CANARY)) if any(c in p for c in "\n\\\"`$[*") and 3 < len(p) < 100]
    for path in out.rglob("*"):
        if path.is_file() and path.suffix not in (".npy", ".txt", ".csv", ".json"):
            text = path.read_bytes().decode("utf-8", "replace")
            found = [p for p in dangerous if p in text]
            assert not found, f"{path.relative_to(out)} holds {found[:2]}"


@pytest.mark.parametrize("name", ["module", "input", "assert", "EOF", "wire", "ap_clk", "x" * 200])
def test_a_model_named_like_a_keyword_builds_code_that_compiles(name, tmp_path):
    model, shape = next((m, s) for n, m, s in qfx_zoo() if n == "mlp")
    path = tmp_path / f"{name}.onnx"
    export_onnx(model, torch.randn(2, *shape), path)
    out, project = build_project(path, "ultra96v2", tmp_path / "build")
    x = np.random.default_rng(1).normal(0, 2, size=(4, *shape))
    assert int((run_csim(out, x) != emulate(path, x)).sum()) == 0
    assert not (out / "rtl" / "REFUSED.txt").exists()
    verilator = str(verilator_bin_dir() / "verilator")
    lint = subprocess.run([verilator, "--lint-only", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                           "--top-module", project.design["top"], *map(str, sorted((out / "rtl").glob("*.v")))],
                          capture_output=True, text=True, env={**os.environ, "PATH": f"{verilator_bin_dir()}:{os.environ['PATH']}"})
    assert lint.returncode == 0, lint.stderr[-2000:]


def test_the_driver_alone_runs_the_builds_simulator_on_float_inputs(hostile_build, monkeypatch):
    """FXHLS_TARGET=sim with no simulator command, in DIR/deploy: the build's RTL simulator;
    float inputs quantized by the driver as the emulator does."""
    folder, model, out, x = hostile_build
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.delenv("FXHLS_SIM_COMMAND", raising=False)
    from deploy_designs import load_driver

    y = load_driver(out / "deploy").Accelerator().predict(x)
    assert int((y != emulate(model, x)).sum()) == 0
