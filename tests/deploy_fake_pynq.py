"""A stand-in for the parts of pynq the driver uses (Overlay, allocate, the AXI DMA's
channels and registers), with the fake device of deploy_fake_device.py behind the DMA.
It checks the order of calls the AXI DMA needs: the receive armed before the send."""

from __future__ import annotations

import types

import numpy as np
from deploy_fake_device import run_device


class Buffer(np.ndarray):
    freed: list

    def freebuffer(self):
        Buffer.freed.append(self.nbytes)


def allocate(shape, dtype):
    return np.zeros(shape, dtype).view(Buffer)


class Channel:
    def __init__(self, dma, name):
        self.dma, self.name = dma, name

    def transfer(self, buffer):
        self.dma.calls.append(f"{self.name}.transfer")
        setattr(self.dma, self.name, buffer)

    def wait(self):
        self.dma.calls.append(f"{self.name}.wait")
        if self.name == "send":
            assert self.dma.calls[-3:] == ["recv.transfer", "send.transfer", "send.wait"], self.dma.calls
            words = run_device(self.dma.design, [int(w) for w in self.dma.send])[: self.dma.words_sent_back]
            self.dma.recv[: len(words)] = words
            self.dma.received_bytes = 8 * len(words)


class Dma:
    def __init__(self, design, words_sent_back):
        self.design, self.words_sent_back, self.calls = design, words_sent_back, []
        self.sendchannel, self.recvchannel = Channel(self, "send"), Channel(self, "recv")

    def read(self, offset):
        assert offset == 0x58  # S2MM_LENGTH
        return self.received_bytes


class ControlRegisters:
    def __init__(self):
        self.writes = []

    def write(self, offset, value):
        self.writes.append((offset, value))


def fake_pynq(design: dict, cells=("axi_dma_0", "tiny_cnn_0"), words_sent_back=None) -> types.ModuleType:
    """A module to put in sys.modules["pynq"]; `words_sent_back` cuts the device's answer short."""
    module = types.ModuleType("pynq")
    Buffer.freed = []
    dma = Dma(design, words_sent_back if words_sent_back is not None else 1 << 62)
    control = ControlRegisters()

    class Overlay:
        def __init__(self, bitfile):
            module.loaded = bitfile
            self.ip_dict = {name: {} for name in cells}
            self.axi_dma_0, self.tiny_cnn_0 = dma, control

    module.Overlay, module.allocate, module.dma, module.control, module.Buffer = Overlay, allocate, dma, control, Buffer
    return module
