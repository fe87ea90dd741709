"""Streaming data through a Verilated design (the cocotb bench `fxhls.sim.stream_bench`)
and measuring its timing: latency, initiation interval, cycles per inference."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from pathlib import Path

from fxhls.sim.verilator import run_bench

BENCH_MODULE = "fxhls.sim.stream_bench"


@dataclass(frozen=True)
class StreamRun:
    """What the bench saw: per output stream its beats, their clock cycles and TLAST
    values; per input stream the cycles its beats were accepted; the cycles simulated."""

    outputs: dict[str, list[int]]
    output_cycles: dict[str, list[int]]
    output_last: dict[str, list[int]]
    input_cycles: dict[str, list[int]]
    cycles: int


@dataclass(frozen=True)
class Timing:
    """Clock cycles of a streamed batch: `latency` from a sample's first input beat to its
    last output beat (the first sample, pipeline empty), `interval` between the ends of
    successive samples in steady state (median), `per_inference` the batch's span / samples."""

    latency: int
    interval: float
    per_inference: float

    def as_dict(self) -> dict:
        return {"latency_cycles": self.latency, "interval_cycles": self.interval, "cycles_per_inference": self.per_inference}


def simulate_streams(
    build_dir: Path,
    top: str,
    inputs: dict[str, list[int]],
    outputs: dict[str, int],
    pause: float = 0.0,
    seed: int = 0,
    last: bool = False,
    clock: str = "clk",
    reset: str = "rst_n",
    max_cycles: int | None = None,
) -> StreamRun:
    """Drive each input stream (`{prefix: beats}`) and collect `{prefix: count}` beats from
    each output stream of the design `top` built in `build_dir` (see `fxhls.sim.verilator.build`).

    `pause` is the probability, per cycle, that a source withholds valid and that a sink
    withholds ready (random back-pressure, seeded by `seed`); `last` sets TLAST on the
    last beat of each input (for streams that have TLAST). Reset is active low. The bench
    gives up after `max_cycles` (default: 100 per beat in and out, plus 10,000).
    """
    if not 0.0 <= pause < 1.0:
        raise ValueError(f"pause is a probability in [0, 1), got {pause!r}")
    if max_cycles is None:
        max_cycles = 100 * (sum(len(beats) for beats in inputs.values()) + sum(outputs.values())) + 10_000
    config = {
        "clock": clock,
        "reset": reset,
        "reset_active_low": True,
        "inputs": [{"prefix": prefix, "beats": [int(b) for b in beats], "last": last} for prefix, beats in inputs.items()],
        "outputs": [{"prefix": prefix, "count": int(count)} for prefix, count in outputs.items()],
        "pause": pause,
        "seed": seed,
        "max_cycles": max_cycles,
    }
    result = run_bench(build_dir, top, BENCH_MODULE, config, seed=seed)
    names = list(outputs)
    return StreamRun(
        outputs={name: out["beats"] for name, out in zip(names, result["outputs"])},
        output_cycles={name: out["cycles"] for name, out in zip(names, result["outputs"])},
        output_last={name: out["last"] for name, out in zip(names, result["outputs"])},
        input_cycles={name: record["cycles"] for name, record in zip(inputs, result["inputs"])},
        cycles=result["cycles"],
    )


def stream_timing(input_cycles: list[int], output_cycles: list[int], samples: int) -> Timing:
    """The timing of `samples` samples streamed back to back, from the cycles of their
    input beats and output beats (each sample the same number of beats)."""
    if samples < 1 or len(input_cycles) % samples or len(output_cycles) % samples:
        raise ValueError(
            f"{len(input_cycles)} input and {len(output_cycles)} output beats do not split into {samples} samples"
        )
    out_per_sample = len(output_cycles) // samples
    ends = output_cycles[out_per_sample - 1 :: out_per_sample]
    start = input_cycles[0]
    latency = ends[0] - start + 1
    gaps = [later - earlier for earlier, later in itertools.pairwise(ends)]
    interval = float(statistics.median(gaps)) if gaps else float(latency)
    return Timing(latency, interval, (ends[-1] - start + 1) / samples)
