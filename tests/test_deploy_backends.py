"""The two backends of the deploy package: which one `fxhls build` chooses, design.json's
"backend", and the RTL backend's Vivado flow (package_ip.tcl, then block_design.tcl)
under tclsh with a mock of Vivado's commands, for each board; its driver starts nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from deploy_designs import device_outputs, image_design, load_driver, sample_inputs
from deploy_fake_pynq import fake_pynq
from torch import nn

from fxhls.board import load_board
from fxhls.cli import main
from fxhls.deploy import write_deploy
from fxhls.deploy.backend import choose_backend
from fxhls.onnx import export_onnx
from fxhls.qfx import QConv2d, QInput, QReLU
from fxhls.rtl.yosys import run_yosys

MOCK_VIVADO = Path(__file__).with_name("deploy_mock_vivado.tcl")
BOARDS = ["ultra96v2", "pynq-z2", "zcu104"]
AXIS_SIGNALS = ("TDATA", "TKEEP", "TSTRB", "TLAST", "TVALID", "TREADY")


def rtl_deploy(tmp_path, board="ultra96v2"):
    """A deploy package of the RTL backend, with a DIR/rtl/ of two Verilog files."""
    rtl = tmp_path / "rtl"
    rtl.mkdir()
    for name in ("tiny_cnn.v", "fxhls_fifo.v"):
        (rtl / name).write_text("// verilog\n")
    x = sample_inputs(4)
    design = {**image_design(board), "backend": "rtl"}
    return write_deploy(design, board, tmp_path, x, device_outputs(x))


def run_mock_vivado(deploy: Path, script: str, *args) -> tuple[subprocess.CompletedProcess, list[str]]:
    log = deploy.parent / f"{script}.calls"
    run = subprocess.run(["tclsh", str(MOCK_VIVADO), str(log), "1", "1", str(deploy / script), *args],
                         capture_output=True, text=True)
    return run, log.read_text().splitlines() if log.exists() else []


def test_choose_backend():
    assert choose_backend(None, None)[0] == "rtl"
    assert choose_backend(None, "node 'x': no stage") == ("hls", "the RTL backend refuses this model (node 'x': no stage)")
    assert choose_backend("hls", None) == ("hls", "as asked")
    with pytest.raises(ValueError, match="^--backend rtl: the RTL backend refuses this model: node 'x': no stage$"):
        choose_backend("rtl", "node 'x': no stage")
    with pytest.raises(ValueError, match="unknown backend 'vhdl'; the backends are hls, rtl"):
        choose_backend("vhdl", None)


def test_choose_backend_names_the_tools_it_found(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "neither vivado nor vitis_hls is on PATH" in choose_backend(None, None)[1]
    (tmp_path / "vivado").write_text("#!/bin/sh\n")
    (tmp_path / "vivado").chmod(0o755)
    assert choose_backend(None, None)[1].endswith("(vivado on PATH)")


@pytest.mark.parametrize("board_name", BOARDS)
def test_package_ip_under_a_mock_vivado(tmp_path, board_name):
    deploy = rtl_deploy(tmp_path, board_name)
    run, calls = run_mock_vivado(deploy, "package_ip.tcl")
    assert run.returncode == 0, run.stderr
    ip = tmp_path / "rtl_ip"
    assert (ip / "component.xml").is_file()
    assert calls[0] == f"create_project -in_memory -part {load_board(board_name).part}"
    assert calls[1] == f"add_files -norecurse {{{tmp_path / 'rtl' / 'fxhls_fifo.v'} {tmp_path / 'rtl' / 'tiny_cnn.v'}}}"
    assert "set_property top tiny_cnn sources_1" in calls
    assert f"ipx::package_project -root_dir {ip} -vendor fxhls.org -library fxhls -taxonomy /UserIP " \
           "-import_files -set_current true" in calls
    # What Vivado inferred goes; the interfaces are declared.
    assert [c for c in calls if c.startswith("ipx::remove_bus_interface")] == \
        ["ipx::remove_bus_interface input_words core", "ipx::remove_bus_interface ap_clk core"]
    for name, mode in (("input_words", "slave"), ("output_words", "master")):
        assert f"set_property interface_mode {mode} busif:{name}" in calls
        assert f"set_property abstraction_type_vlnv xilinx.com:interface:axis_rtl:1.0 busif:{name}" in calls
        for signal in AXIS_SIGNALS:
            assert f"set_property physical_name {name}_{signal} portmap:busif:{name}:{signal}" in calls
    assert "set_property value ACTIVE_LOW parameter:busif:ap_rst_n:POLARITY" in calls
    assert "set_property value input_words:output_words parameter:busif:ap_clk:ASSOCIATED_BUSIF" in calls
    assert "set_property value ap_rst_n parameter:busif:ap_clk:ASSOCIATED_RESET" in calls
    assert not any("s_axilite" in c or "aximm" in c for c in calls)  # ap_ctrl_none: no control interface
    assert calls[-2:] == ["ipx::save_core core", "close_project"]


def test_package_ip_without_verilog_says_where_it_looked(tmp_path):
    deploy = rtl_deploy(tmp_path)
    for path in (tmp_path / "rtl").iterdir():
        path.unlink()
    run, _ = run_mock_vivado(deploy, "package_ip.tcl")
    assert run.returncode != 0
    assert f"no Verilog in {tmp_path / 'rtl'}: fxhls build writes it there" in run.stderr


@pytest.mark.parametrize("board_name", BOARDS)
def test_rtl_block_design_under_a_mock_vivado(tmp_path, board_name):
    board = load_board(board_name)
    deploy = rtl_deploy(tmp_path, board_name)
    run, calls = run_mock_vivado(deploy, "block_design.tcl")
    assert run.returncode == 0, run.stderr
    ps = f"{board.ps_ip}_0"
    text = "\n".join(calls)
    assert f"set_property ip_repo_paths {tmp_path / 'rtl_ip'} project_1" in calls
    assert "connect_bd_intf_net /axi_dma_0/M_AXIS_MM2S /tiny_cnn_0/in_stream0" in calls
    assert f"Master /{ps}/{board.control_port} Slave /axi_dma_0/S_AXI_LITE" in text
    assert "s_axi_control" not in text  # no AXI-Lite on the RTL IP
    assert f"connect_bd_net /{ps}/{board.pl_clock} /tiny_cnn_0/ap_clk" in calls
    assert "connect_bd_net /rst_ps_0/peripheral_aresetn /tiny_cnn_0/ap_rst_n" in calls
    assert calls.index("connect_bd_net /rst_ps_0/peripheral_aresetn /tiny_cnn_0/ap_rst_n") < calls.index(
        "assign_bd_address")
    assert (deploy / "tiny_cnn.bit").read_text() == "fake bitstream\n"


def test_rtl_build_script_packages_the_ip_first(tmp_path):
    deploy = rtl_deploy(tmp_path)
    script = (deploy / "build_bitstream.sh").read_text()
    assert "default_ip_repo=../rtl_ip\n" in script
    assert script.index("-source package_ip.tcl") < script.index("-source block_design.tcl")
    assert not (write_deploy(image_design(), "ultra96v2", tmp_path / "hls", sample_inputs(2),
                             device_outputs(sample_inputs(2))) / "package_ip.tcl").exists()


def test_the_rtl_driver_writes_no_control_register(tmp_path, monkeypatch):
    deploy = rtl_deploy(tmp_path)
    design = json.loads((deploy / "design.json").read_text())
    for suffix in (".bit", ".hwh"):
        (deploy / f"tiny_cnn{suffix}").write_text("built")
    (deploy / "tiny_cnn.design_hash").write_text(design["design_hash"] + "\n")
    pynq = fake_pynq(design)
    monkeypatch.setitem(sys.modules, "pynq", pynq)
    accelerator = load_driver(deploy).Accelerator(target="board")
    assert pynq.control.writes == []
    x = sample_inputs(3, seed=2)
    assert int((accelerator.predict(x) != device_outputs(x)).sum()) == 0


def _cli_build(model, out, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent.parent), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "fxhls", "build", str(model), "--board", "ultra96v2", "--out", str(out),
                           *args], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backend_models")
    torch.manual_seed(0)
    covered = nn.Sequential(QInput(), QConv2d(1, 2, 1, padding=1), QReLU())
    export_onnx(covered.eval(), torch.randn(2, 1, 4, 4), folder / "covered.onnx")
    return folder


def test_build_chooses_rtl_when_it_covers_the_model(models, tmp_path):
    run = _cli_build(models / "covered.onnx", tmp_path / "b")
    assert run.returncode == 0, run.stderr
    assert "deploy: backend rtl: it covers the model and needs only Vivado" in run.stdout
    assert json.loads((tmp_path / "b" / "design.json").read_text())["backend"] == "rtl"
    assert (tmp_path / "b" / "deploy" / "package_ip.tcl").is_file()
    run = _cli_build(models / "covered.onnx", tmp_path / "h", "--backend", "hls")
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "h" / "deploy" / "design.json").read_text())["backend"] == "hls"


def test_build_falls_back_to_hls_and_refuses_rtl_in_one_line(models, tmp_path, monkeypatch, capsys):
    """Every zoo model gets Verilog now, so the refusal is a stand-in raised where the top is made."""
    def refuse(*args, **kwargs):
        raise ValueError("node 'stand_in': a stand-in refusal")

    monkeypatch.setattr("fxhls.rtl.writer._top", refuse)
    build = ["build", str(models / "covered.onnx"), "--board", "ultra96v2", "--out"]
    assert main([*build, str(tmp_path / "b")]) == 0
    assert "deploy: backend hls: the RTL backend refuses this model (node 'stand_in': a stand-in refusal)" in \
        capsys.readouterr().out
    assert json.loads((tmp_path / "b" / "design.json").read_text())["backend"] == "hls"
    assert main([*build, str(tmp_path / "r"), "--backend", "rtl"]) == 2
    assert capsys.readouterr().err == "fxhls build: error: --backend rtl: the RTL backend refuses this model: " \
                                      "node 'stand_in': a stand-in refusal\n"
    assert not (tmp_path / "r").exists()


def test_package_ip_maps_every_port_of_the_rtl_top(models, tmp_path):
    """package_ip.tcl declares each port of fxhls's generated top in an interface, and the
    top has no other port: no ap_start, no AXI-Lite (ap_ctrl_none, as the driver and the
    co-simulation bench, which write no control register, take it)."""
    out = tmp_path / "b"
    assert main(["build", str(models / "covered.onnx"), "--board", "ultra96v2", "--out", str(out)]) == 0
    top = json.loads((out / "design.json").read_text())["top"]
    netlist = tmp_path / "top.json"
    run_yosys("\n".join([*(f"read_verilog {source}" for source in sorted((out / "rtl").glob("*.v"))),
                         f"hierarchy -top {top}", "proc", f"write_json {netlist}"]))
    ports = set(json.loads(netlist.read_text())["modules"][top]["ports"])
    run, calls = run_mock_vivado(out / "deploy", "package_ip.tcl")
    assert run.returncode == 0, run.stderr
    declared = {call.split()[2] for call in calls if call.startswith("set_property physical_name ")}
    assert declared == ports == {"ap_clk", "ap_rst_n"} | {f"{name}_{signal}" for name in ("input_words", "output_words")
                                                          for signal in AXIS_SIGNALS}
