"""A generic cocotb bench for designs with valid/ready streams (cocotb test module).

Run through `fxhls.sim.cosim.simulate_streams`, which writes the configuration
(JSON, in the file named by `FXHLS_BENCH_CONFIG`):

    {"clock": "clk", "reset": "rst_n", "reset_active_low": true, "clock_ns": 4,
     "inputs":  [{"prefix": "s", "beats": [int, ...], "last": false}, ...],
     "outputs": [{"prefix": "m", "count": int}, ...],
     "pause": 0.3, "seed": 1, "max_cycles": 100000}

Each input stream is driven by a cocotbext-axi `AxiStreamSource` (signals
`<prefix>_tdata`, `_tvalid`, `_tready`, optionally `_tlast` and `_tkeep`, any case)
with its beats as one frame (TLAST on the last beat when `last`); each output by an
`AxiStreamSink`. With `pause` > 0 both sides stall at random (valid and ready low
with that probability each cycle). A monitor records every handshake (the clock
cycle, counted from the end of reset, its data and TLAST). The bench ends when each
output has `count` beats and writes them to `FXHLS_BENCH_RESULT`:

    {"inputs": [{"cycles": [...]}], "outputs": [{"beats": [...], "cycles": [...], "last": [...]}],
     "cycles": total}
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource


def _pauses(probability: float, rng: random.Random):
    while True:
        yield rng.random() < probability


def _frame(bus, beats: list[int]) -> AxiStreamFrame:
    """One frame of whole beats: bytes when TKEEP splits the beat into bytes, else one int per beat."""
    width = len(bus.tdata)
    if hasattr(bus, "tkeep"):
        return AxiStreamFrame(b"".join(beat.to_bytes(width // 8, "little") for beat in beats))
    return AxiStreamFrame(list(beats))


def _stream_kwargs(bus) -> dict:
    return {} if hasattr(bus, "tkeep") else {"byte_lanes": 1}


def _fired(bus) -> bool:
    return bool(bus.tvalid.value) and bool(bus.tready.value)


def _record(in_buses, out_buses, result: dict, cycle: int) -> None:
    """Note the handshakes of the clock edge just passed (values as the edge sampled them)."""
    for bus, record in zip(in_buses, result["inputs"]):
        if _fired(bus):
            record["cycles"].append(cycle)
    for bus, record in zip(out_buses, result["outputs"]):
        if _fired(bus):
            record["beats"].append(int(bus.tdata.value))
            record["cycles"].append(cycle)
            record["last"].append(int(bus.tlast.value) if hasattr(bus, "tlast") else 0)


@cocotb.test()
async def stream_bench(dut):
    """Stream the configured beats through the design and record the outputs."""
    config = json.loads(Path(os.environ["FXHLS_BENCH_CONFIG"]).read_text())
    rng = random.Random(config.get("seed", 0))
    clock = getattr(dut, config["clock"])
    reset = getattr(dut, config["reset"])
    active = 0 if config.get("reset_active_low", True) else 1
    cocotb.start_soon(Clock(clock, config.get("clock_ns", 4), unit="ns").start())

    in_buses = [AxiStreamBus.from_prefix(dut, port["prefix"]) for port in config["inputs"]]
    out_buses = [AxiStreamBus.from_prefix(dut, port["prefix"]) for port in config["outputs"]]
    sources = [AxiStreamSource(bus, clock, **_stream_kwargs(bus)) for bus in in_buses]
    sinks = [AxiStreamSink(bus, clock, **_stream_kwargs(bus)) for bus in out_buses]
    pause = float(config.get("pause", 0.0))
    if pause > 0:
        for stream in [*sources, *sinks]:
            stream.set_pause_generator(_pauses(pause, random.Random(rng.random())))

    reset.value = active
    for _ in range(4):
        await RisingEdge(clock)
    reset.value = 1 - active
    await RisingEdge(clock)

    for source, bus, port in zip(sources, in_buses, config["inputs"]):
        frame = _frame(bus, port["beats"])
        if not port.get("last", False) and hasattr(bus, "tlast"):
            raise ValueError("a stream with TLAST gets its beats as one frame: set last")
        await source.send(frame)

    result = {
        "inputs": [{"cycles": []} for _ in in_buses],
        "outputs": [{"beats": [], "cycles": [], "last": []} for _ in out_buses],
    }
    wanted = [port["count"] for port in config["outputs"]]
    cycle, max_cycles = 0, config.get("max_cycles", 1_000_000)
    while any(len(out["beats"]) < count for out, count in zip(result["outputs"], wanted)):
        await RisingEdge(clock)
        _record(in_buses, out_buses, result, cycle)
        cycle += 1
        if cycle > max_cycles:
            raise TimeoutError(f"outputs incomplete after {max_cycles} cycles: {[len(o['beats']) for o in result['outputs']]} of {wanted}")
    for _ in range(8):  # a few more cycles: extra output beats would be a defect
        await RisingEdge(clock)
        _record(in_buses, out_buses, result, cycle)
        cycle += 1
    result["cycles"] = cycle
    Path(os.environ["FXHLS_BENCH_RESULT"]).write_text(json.dumps(result))
