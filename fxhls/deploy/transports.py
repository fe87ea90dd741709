"""Transports: how a batch's stream words reach an fxhls accelerator and come back.

A transport has `transfer(words, n_out_words) -> words`: `words` is a uint64 array
holding one batch's input words (one DMA transfer, TLAST on its last word), the
result the `n_out_words` words the accelerator sent back. `max_words` bounds the
words of one transfer (None: no bound).

- `DmaTransport`: the bitstream on a PYNQ board, through its AXI DMA (needs pynq).
- `SimulatorTransport`: a simulator executable speaking the file protocol
  `<sim> <in_words.txt> <out_words.txt>` (one word per line, 16 hex digits; the
  simulator drives TLAST on the input's last word and writes every output word up to
  and including the one with TLAST).

Copied verbatim into the deploy package: numpy and the standard library only
(pynq is imported when a `DmaTransport` is made).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

# The AXI-Lite control register of a Vitis HLS block (ap_ctrl_hs on s_axilite, UG1399 "S_AXILITE
# Control Register Map"): at offset AP_CTRL ap_start (set by a write, cleared when the block takes
# it, kept by auto_restart), ap_done (clear on read), ap_idle, ap_ready, auto_restart.
AP_CTRL = 0x00
AP_START, AP_DONE, AP_IDLE, AP_READY, AUTO_RESTART = 0x01, 0x02, 0x04, 0x08, 0x80
# What the driver writes once: start, and start again after every call (one sample per call).
AP_START_AUTO_RESTART = AP_START | AUTO_RESTART
# AXI DMA registers: S2MM_LENGTH holds the bytes a receive actually wrote once it is done.
DMA_S2MM_LENGTH = 0x58
# The block design sets the DMA's buffer length register to 26 bits.
DMA_MAX_BYTES = (1 << 26) - 1


class DmaTransport:
    """The accelerator in the bitstream `bitfile` (cells `axi_dma_0` and `<top>_0`), through
    pynq; `start`: write ap_start with auto-restart to its AXI-Lite control register (an
    HLS IP), not for an IP without control (the RTL backend's, ap_ctrl_none)."""

    max_words = DMA_MAX_BYTES // 8

    def __init__(self, bitfile: Path, top: str, start: bool = True):
        try:
            from pynq import Overlay, allocate
        except ImportError:
            raise RuntimeError(
                "pynq is not installed: the board target runs on a PYNQ board; "
                "elsewhere set FXHLS_TARGET=sim and FXHLS_SIM_COMMAND to a simulator"
            ) from None
        self._allocate = allocate
        self.overlay = Overlay(str(bitfile))
        missing = [name for name in ("axi_dma_0", f"{top}_0") if name not in self.overlay.ip_dict]
        if missing:
            raise ValueError(
                f"{bitfile} has no IP {', '.join(missing)}: it is not the fxhls block design of {top}"
            )
        self.dma = self.overlay.axi_dma_0
        if start:
            getattr(self.overlay, f"{top}_0").write(AP_CTRL, AP_START_AUTO_RESTART)

    def transfer(self, words: np.ndarray, n_out_words: int) -> np.ndarray:
        send = self._allocate(shape=(len(words),), dtype=np.uint64)
        receive = self._allocate(shape=(n_out_words,), dtype=np.uint64)
        try:
            send[:] = words
            self.dma.recvchannel.transfer(receive)
            self.dma.sendchannel.transfer(send)
            self.dma.sendchannel.wait()
            self.dma.recvchannel.wait()
            received = self.dma.read(DMA_S2MM_LENGTH)
            if received != receive.nbytes:
                raise RuntimeError(f"the accelerator sent {received} bytes, expected {receive.nbytes}")
            return np.array(receive)
        finally:
            send.freebuffer()
            receive.freebuffer()


class SimulatorTransport:
    """A simulator executable: `command` (argv list) gets the input and output file paths appended."""

    max_words = None

    def __init__(self, command: list[str]):
        if not command:
            raise ValueError("the simulator command is empty; set FXHLS_SIM_COMMAND")
        self.command = list(command)

    def transfer(self, words: np.ndarray, n_out_words: int) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="fxhls-sim-") as folder:
            in_path, out_path = Path(folder) / "in_words.txt", Path(folder) / "out_words.txt"
            write_words(in_path, words)
            try:
                run = subprocess.run([*self.command, str(in_path), str(out_path)], capture_output=True, text=True)
            except OSError as err:
                raise RuntimeError(f"cannot run the simulator {self.command[0]!r}: {err}") from None
            if run.returncode != 0:
                last_line = (run.stderr.strip().splitlines() or ["(no message)"])[-1]
                raise RuntimeError(f"the simulator {self.command[0]!r} failed (exit {run.returncode}): {last_line}")
            if not out_path.is_file():
                raise RuntimeError(f"the simulator {self.command[0]!r} wrote no output words file")
            result = read_words(out_path)
        if len(result) != n_out_words:
            raise RuntimeError(f"the simulator sent {len(result)} words, expected {n_out_words}")
        return result


def write_words(path: Path, words: np.ndarray) -> None:
    """Write 64-bit words, one per line as 16 lowercase hex digits."""
    Path(path).write_text("".join(f"{int(word):016x}\n" for word in np.asarray(words, dtype=np.uint64)))


def read_words(path: Path) -> np.ndarray:
    """Read a words file (one word per line, 16 hex digits) as uint64."""
    lines = Path(path).read_text(errors="replace").splitlines()  # binary junk fails the check below
    for number, line in enumerate(lines, 1):
        if len(line) != 16 or any(c not in "0123456789abcdefABCDEF" for c in line):
            raise RuntimeError(f"{path}:{number}: expected a word as 16 hex digits, got {line[:40]!r}")
    return np.array([int(line, 16) for line in lines], dtype=np.uint64)
