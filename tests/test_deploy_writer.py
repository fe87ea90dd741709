"""write_deploy: the files of the package, its refusals, and the block design run under a mock Vivado."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from deploy_designs import device_outputs, image_design, load_driver, sample_inputs

from fxhls.board import load_board
from fxhls.deploy import write_deploy

MOCK_VIVADO = Path(__file__).with_name("deploy_mock_vivado.tcl")
PACKAGE_FILES = {"README.md", "block_design.tcl", "build_bitstream.sh", "design.json", "driver.py",
                 "expected_outputs.npy", "float32.py", "functions.py", "fxhls_demo.ipynb", "packing.py",
                 "quantize_numpy.py", "test_inputs.npy", "transports.py"}


def write(tmp_path, board="ultra96v2", x=None, **kwargs):
    x = sample_inputs(4) if x is None else x
    return write_deploy(image_design(board), board, tmp_path, x, device_outputs(np.floor(x * 16) / 16), **kwargs)


def test_the_package_files_and_design_hash(tmp_path):
    deploy = write(tmp_path, labels=np.array([0, 1, 2, 3]))
    assert {p.name for p in deploy.iterdir()} == PACKAGE_FILES | {"labels.npy"}
    design = json.loads((deploy / "design.json").read_text())
    unhashed = {key: value for key, value in design.items() if key != "design_hash"}
    canonical = json.dumps(unhashed, sort_keys=True, separators=(",", ":")).encode()
    assert design["design_hash"] == hashlib.sha256(canonical).hexdigest()
    assert unhashed == image_design()
    assert (deploy / "build_bitstream.sh").stat().st_mode & 0o111


def test_test_inputs_are_cast_to_the_input_type(tmp_path):
    x = sample_inputs(4) + 0.03  # off the grid of ap_ufixed<8,4> (lsb 1/16): AP_TRN floors
    x[0, 0, 0, 0] = 100.0  # AP_WRAP: 1600 mod 256 = 64 -> 4.0
    deploy = write(tmp_path, x=x)
    bundled = np.load(deploy / "test_inputs.npy")
    assert bundled[0, 0, 0, 0] == 4.0
    rest = np.ones(x.shape, bool)
    rest[0, 0, 0, 0] = False
    assert int((bundled[rest] != np.floor(x[rest] * 16) / 16).sum()) == 0


def test_rewriting_keeps_a_built_bitstream(tmp_path):
    deploy = write(tmp_path)
    (deploy / "tiny_cnn.bit").write_text("bits")
    (deploy / "stale.txt").write_text("old")
    write(tmp_path)
    assert (deploy / "tiny_cnn.bit").read_text() == "bits"
    assert not (deploy / "stale.txt").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda args: args.update(board="zcu104"), "the design is for board 'ultra96v2', the deploy package for 'zcu104'"),
        (lambda args: args["design"].pop("top"), "the design lacks top"),
        (lambda args: args["design"]["output"].pop("lane"), "the design lacks output.lane"),
        (lambda args: args.update(x=np.zeros((2, 3, 4))), r"inputs must be a batch of shape \(batch, 2, 3, 4\), got \(2, 3, 4\)"),
        (lambda args: args.update(y=np.zeros((4, 6))), r"expected outputs must have shape \(4, 5\)"),
        (lambda args: args.update(y=np.full((4, 5), 1e-9)), r"expected outputs are not ap_fixed<18,8> values"),
        (lambda args: args.update(labels=np.zeros(3, int)), "labels must be 4 integer class indices"),
    ],
)
def test_refusals_leave_no_package(tmp_path, change, message):
    args = {"design": image_design(), "board": "ultra96v2", "x": sample_inputs(4), "y": np.zeros((4, 5)), "labels": None}
    change(args)
    with pytest.raises(ValueError, match=message):
        write_deploy(args["design"], args["board"], tmp_path, args["x"], args["y"], labels=args["labels"])
    assert list(tmp_path.iterdir()) == []


def run_mock_vivado(deploy: Path, ip_count: int = 1, axis_slaves: int = 1) -> tuple[subprocess.CompletedProcess, str]:
    log = deploy.parent / "vivado_calls.log"
    run = subprocess.run(["tclsh", str(MOCK_VIVADO), str(log), str(ip_count), str(axis_slaves),
                          str(deploy / "block_design.tcl")], capture_output=True, text=True)
    return run, log.read_text() if log.exists() else ""


@pytest.mark.parametrize("board_name", ["ultra96v2", "pynq-z2", "zcu104"])
def test_block_design_under_a_mock_vivado(tmp_path, board_name):
    board = load_board(board_name)
    deploy = write(tmp_path, board_name)
    run, calls = run_mock_vivado(deploy)
    assert run.returncode == 0, run.stderr
    ps = f"{board.ps_ip}_0"
    expected_calls = [
        f"create_project tiny_cnn_deploy {tmp_path / 'vivado'} -part {board.part} -force",
        f"set_property board_part {board.board_part} project_1",
        f"set_property ip_repo_paths {tmp_path / 'ip'} project_1",
        "get_ipdefs -all *:*:tiny_cnn:*",
        f"create_bd_cell -type ip -vlnv xilinx.com:ip:{board.ps_ip} {ps}",
        f"apply_bd_automation -rule xilinx.com:bd_rule:{board.ps_ip} -config",
        f"CONFIG.{board.pl_clock_property} 200 CONFIG.{board.hp_port_enable} 1 "
        f"CONFIG.{board.hp_port_width_property} {board.hp_port_width} CONFIG.{board.control_port_enable} 1",
        "CONFIG.c_include_sg 0 CONFIG.c_sg_length_width 26",
        f"CONFIG.c_m_axi_mm2s_data_width {board.hp_port_width} CONFIG.c_m_axis_mm2s_tdata_width 64",
        "CONFIG.c_s_axis_s2mm_tdata_width 64",
        "create_bd_cell -type ip -vlnv x:x:tiny_cnn:x tiny_cnn_0",
        "connect_bd_intf_net /axi_dma_0/M_AXIS_MM2S /tiny_cnn_0/in_stream0",
        "connect_bd_intf_net /tiny_cnn_0/out_stream /axi_dma_0/S_AXIS_S2MM",
        f"Master /{ps}/{board.control_port} Slave /axi_dma_0/S_AXI_LITE",
        f"Master /{ps}/{board.control_port} Slave /tiny_cnn_0/s_axi_control",
        f"Master /axi_dma_0/M_AXI_MM2S Slave /{ps}/{board.hp_port}",
        f"Master /axi_dma_0/M_AXI_S2MM Slave /{ps}/{board.hp_port}",
        "make_wrapper -files /files/tiny_cnn_bd.bd -top",
        "launch_runs impl_1 -to_step write_bitstream -jobs 4",
    ]
    missing = [call for call in expected_calls if call not in calls]
    assert missing == [], calls
    assert ('make_external "FIXED_IO, DDR"' in calls) == (board.family == "zynq7000")
    assert all(f"CONFIG.{switch} 0" in calls for switch in board.ports_off)
    assert (deploy / "tiny_cnn.bit").read_text() == "fake bitstream\n"
    assert (deploy / "tiny_cnn.hwh").read_text() == "<fake hwh/>\n"
    design = json.loads((deploy / "design.json").read_text())
    assert (deploy / "tiny_cnn.design_hash").read_text() == design["design_hash"] + "\n"
    # The driver accepts what the block design wrote, and goes on to load it with pynq.
    with pytest.raises(RuntimeError, match="pynq is not installed"):
        load_driver(deploy).Accelerator(target="board")


@pytest.mark.parametrize("ip_count, axis_slaves, message", [
    (0, 1, "expected one IP named tiny_cnn in .*/ip, found 0: export the HLS design"),
    (1, 2, "the IP tiny_cnn needs exactly one input stream interface, it has 2"),
])
def test_block_design_refuses_a_missing_or_odd_ip(tmp_path, ip_count, axis_slaves, message):
    run, _ = run_mock_vivado(write(tmp_path), ip_count, axis_slaves)
    assert run.returncode != 0
    assert re.search(message, run.stderr), run.stderr


def test_the_ip_repo_argument(tmp_path):
    deploy = write(tmp_path, ip_repo="../firmware/ip")
    assert '"../firmware/ip"' in (deploy / "block_design.tcl").read_text()
    assert "default_ip_repo=../firmware/ip\n" in (deploy / "build_bitstream.sh").read_text()
