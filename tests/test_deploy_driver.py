"""The generated driver: predict through a fake device (in-process and as a simulator), and its refusals."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest
from deploy_designs import device_outputs, image_design, load_driver, sample_inputs
from deploy_fake_device import FakeDevice
from deploy_fake_pynq import fake_pynq

from fxhls.deploy import write_deploy
from fxhls.fixed import FixedType, quantize
from fxhls.fixed.formats import kernel_constants
from fxhls.hls.vectors import to_words

FAKE_DEVICE_SCRIPT = Path(__file__).with_name("deploy_fake_device.py")


@pytest.fixture
def deploy(tmp_path):
    x = sample_inputs(6)
    return write_deploy(image_design(), "ultra96v2", tmp_path, x, device_outputs(x))


@pytest.fixture
def design(deploy):
    return json.loads((deploy / "design.json").read_text())


def simulator_command(deploy) -> str:
    return shlex.join([sys.executable, str(FAKE_DEVICE_SCRIPT), str(deploy / "design.json")])


@pytest.mark.parametrize("max_words, transfers", [(None, [3 * 7]), (6 * 3, [18, 3]), (3, [3] * 7)])
def test_predict_through_a_fake_device(deploy, design, max_words, transfers):
    device = FakeDevice(design, max_words)
    accelerator = load_driver(deploy).Accelerator(transport=device)
    x = sample_inputs(7, seed=1)
    y = accelerator.predict(x)
    assert y.shape == (7, 5) and y.dtype == np.float64
    assert int((y != device_outputs(x)).sum()) == 0
    assert device.transfers == transfers  # whole samples per transfer, at most max_words words
    assert accelerator.last_fps > 0


def test_predict_through_the_simulator_file_protocol(deploy, monkeypatch):
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.setenv("FXHLS_SIM_COMMAND", simulator_command(deploy))
    accelerator = load_driver(deploy).Accelerator()
    x = sample_inputs(9, seed=2)
    assert int((accelerator.predict(x) != device_outputs(x)).sum()) == 0


def test_an_empty_batch(deploy, design):
    accelerator = load_driver(deploy).Accelerator(transport=FakeDevice(design))
    assert accelerator.predict(np.zeros((0, 2, 3, 4))).shape == (0, 5)


@pytest.mark.parametrize(
    "x, message",
    [
        (np.zeros((2, 3, 4)), r"batch of shape \(batch, 2, 3, 4\), got \(2, 3, 4\)"),
        (np.zeros((1, 2, 4, 3)), r"batch of shape \(batch, 2, 3, 4\)"),
        (np.full((1, 2, 3, 4), np.nan), r"predict takes numbers; the batch holds NaN, which ap_ufixed<8,4> cannot hold"),
    ],
)
def test_predict_refuses_a_bad_batch(deploy, design, x, message):
    accelerator = load_driver(deploy).Accelerator(transport=FakeDevice(design))
    with pytest.raises(ValueError, match=message):
        accelerator.predict(x)


@pytest.mark.parametrize("input_type", ["ap_ufixed<8,4>", "ap_fixed<8,3,AP_RND_CONV,AP_SAT>", "ap_fixed<6,2,AP_RND,AP_WRAP>",
                                        "ap_ufixed<7,1,AP_RND_INF,AP_SAT_ZERO>"])
def test_predict_quantizes_float_inputs_as_fxhls_does(tmp_path, input_type):
    """Any numbers in (off the grid, out of range, infinite): the driver's input cast equals
    fxhls.fixed.quantize, so the device sees the codes the emulator computes with."""
    design = image_design()
    design["input"] = {**design["input"], "type": input_type}
    t = FixedType.parse(input_type)
    design["input"] |= {"signed": t.signed, "frac_bits": t.frac_bits, "width": t.width,
                        "cast": {"rounding": t.rounding, "overflow": t.overflow,
                                 "constants": list(kernel_constants(t, np.float64))}}
    x = np.random.default_rng(5).normal(0, 6, size=(40, 2, 3, 4))
    x[0, 0, 0, :] = [np.inf, -np.inf, 0.5 * t.lsb, -0.0]
    deploy = write_deploy(design, "ultra96v2", tmp_path, quantize(x[:2], t), np.zeros((2, 5)))
    captured = {}

    class Recorder:
        max_words = None

        def transfer(self, words, n_out):
            captured["words"] = np.asarray(words)
            return np.zeros(n_out, dtype=np.uint64)

    load_driver(deploy).Accelerator(transport=Recorder(), design_file=deploy / "design.json").predict(x)
    expected = to_words(design["input"], quantize(x, t)).reshape(-1)
    assert int((captured["words"] != expected).sum()) == 0


def test_unknown_target_and_missing_simulator(deploy, monkeypatch):
    driver = load_driver(deploy)
    with pytest.raises(ValueError, match="unknown target 'fpga'; supported: board, sim"):
        driver.Accelerator(target="fpga")
    monkeypatch.delenv("FXHLS_SIM_COMMAND", raising=False)
    with pytest.raises(ValueError, match="needs the simulator command in FXHLS_SIM_COMMAND, or this package in its build"):
        driver.Accelerator(target="sim")


def test_board_target_refuses_a_missing_bitstream(deploy):
    with pytest.raises(FileNotFoundError, match=r"tiny_cnn\.bit is missing: build the bitstream with build_bitstream.sh"):
        load_driver(deploy).Accelerator(target="board")


def put_bitstream(deploy, design_hash: str) -> None:
    for suffix, content in ((".bit", "bits"), (".hwh", "<xml/>"), (".design_hash", design_hash + "\n")):
        (deploy / f"tiny_cnn{suffix}").write_text(content)


def test_board_target_refuses_a_bitstream_of_another_design(deploy):
    put_bitstream(deploy, "0" * 64)
    (deploy / "tiny_cnn.hwh").unlink()
    with pytest.raises(FileNotFoundError, match=r"tiny_cnn\.hwh is missing"):
        load_driver(deploy).Accelerator(target="board")
    put_bitstream(deploy, "0" * 64)
    with pytest.raises(ValueError, match=r"built for another design or board \(design hash 000000000000\), not tiny cnn on ultra96v2"):
        load_driver(deploy).Accelerator(target="board")


def test_board_target_without_pynq_says_where_it_runs(deploy, design, monkeypatch):
    put_bitstream(deploy, design["design_hash"])
    monkeypatch.setitem(sys.modules, "pynq", None)  # import pynq fails, as off the board
    with pytest.raises(RuntimeError, match="pynq is not installed: the board target runs on a PYNQ board"):
        load_driver(deploy).Accelerator(target="board")


@pytest.mark.parametrize(
    "script, message",
    [
        ("import sys; print('no license', file=sys.stderr); sys.exit(4)", r"failed \(exit 4\): no license"),
        ("import sys; open(sys.argv[2], 'w').write('0' * 16 + '\\n')", "sent 1 words, expected 3"),
        ("import sys; open(sys.argv[2], 'w').write('0x12\\n')", "expected a word as 16 hex digits, got '0x12'"),
        ("pass", "wrote no output words file"),
    ],
)
def test_simulator_failures_are_reported(deploy, tmp_path, script, message):
    simulator = tmp_path / "simulator.py"
    simulator.write_text(script)
    accelerator = load_driver(deploy).Accelerator(target="sim", sim_command=[sys.executable, str(simulator)])
    with pytest.raises(RuntimeError, match=message):
        accelerator.predict(sample_inputs(1))


def test_board_target_through_a_stand_in_pynq(deploy, design, monkeypatch):
    put_bitstream(deploy, design["design_hash"])
    pynq = fake_pynq(design)
    monkeypatch.setitem(sys.modules, "pynq", pynq)
    accelerator = load_driver(deploy).Accelerator()
    assert pynq.loaded == str(deploy / "tiny_cnn.bit")
    assert pynq.control.writes == [(0x00, 0x81)]  # ap_start with auto-restart, once
    x = sample_inputs(5, seed=6)
    assert int((accelerator.predict(x) != device_outputs(x)).sum()) == 0
    assert pynq.Buffer.freed == [5 * 3 * 8, 5 * 3 * 8]


def test_board_target_refuses_a_bitstream_without_the_cells(deploy, design, monkeypatch):
    put_bitstream(deploy, design["design_hash"])
    monkeypatch.setitem(sys.modules, "pynq", fake_pynq(design, cells=("axi_dma_0",)))
    with pytest.raises(ValueError, match="has no IP tiny_cnn_0: it is not the fxhls block design of tiny_cnn"):
        load_driver(deploy).Accelerator()


def test_board_target_reports_a_short_answer(deploy, design, monkeypatch):
    put_bitstream(deploy, design["design_hash"])
    monkeypatch.setitem(sys.modules, "pynq", fake_pynq(design, words_sent_back=4))
    with pytest.raises(RuntimeError, match="the accelerator sent 32 bytes, expected 48"):
        load_driver(deploy).Accelerator().predict(sample_inputs(2))
