"""Co-simulation of a build directory's RTL (top DIR/design.json's "top") with
Verilator and its C++ stream bench (`fxhls.sim.verilator_bench`): fxhls's Verilog
(DIR/rtl) or the Vitis HLS export of the C++, chosen by `fxhls.rtl.sources.cosim_sources`
(by default the design the deploy package puts on the board).

The top's ports are those of the Vitis HLS top (`templates/hls/firmware/top.cpp.j2`):
clock `ap_clk`, active-low reset `ap_rst_n`, AXI-Stream slave `input_words_*` and master
`output_words_*` (TDATA 64 bits, TLAST, TKEEP), so the same bench runs on RTL that Vitis
HLS exports. Where the top has the ap_ctrl_hs handshake as ports the bench holds `ap_start`
high and counts the cycles with `ap_done` high; where the handshake sits behind Vitis's
AXI-Lite slave (`s_axi_control_*`, the export of fxhls's C++ top) the bench is the host:
one call per sample, each started by writing ap_start and ended by reading ap_done, under
back-pressure; then, for the timing, one write of ap_start with auto-restart, as the deploy
driver starts the IP on the board (`fxhls.sim.control_register`). A batch goes in as one
transfer, TLAST on its last word (the stream format: fxhls/deploy/packing.py).

Also the simulator of the deploy driver's file protocol (README: Deploying to the board):
`python -m fxhls.sim.rtl_cosim DIR in_words.txt out_words.txt`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fxhls import progress
from fxhls.deploy.interface import read_design as read_design_file
from fxhls.deploy.transports import read_words, write_words
from fxhls.rtl.sources import cosim_sources
from fxhls.sim.cosim import Timing, stream_timing
from fxhls.sim.verilator_bench import BenchRun, build_stream_bench, run_stream_bench
from fxhls.staging import write_file


@dataclass(frozen=True)
class CosimRun:
    """A batch through the RTL: the output words (flat, uint64), the timing measured
    on a second run without back-pressure, that run's cycles with ap_done high (0 on a
    top without the handshake as ports), the design simulated, in words, its control
    ("s_axilite", "ap_ctrl_hs" or "none") and, on an AXI-Lite control, the calls whose
    ap_done the first run read (one per sample)."""

    words: np.ndarray
    timing: Timing
    clock_mhz: float
    done_cycles: int
    measured: str
    control: str
    done_reads: int

    def summary(self, samples: int, mismatches: int | None) -> dict:
        """What DIR/report/cosim.json holds."""
        interval = self.timing.interval
        return {"samples": samples, **self.timing.as_dict(), "clock_mhz": self.clock_mhz,
                "fps": self.clock_mhz * 1e6 / interval, "mismatches": mismatches,
                "control": self.control, "ap_done_cycles": self.done_cycles, "ap_done_reads": self.done_reads,
                "measured": self.measured}


def read_design(design_dir: Path) -> dict:
    """DIR/design.json, with a clear error when DIR is not a build directory."""
    return read_design_file(Path(design_dir) / "design.json")


def build_design(design_dir: Path, rtl: str | None = None) -> Path:
    """The Verilator build of DIR's RTL (`rtl`: `cosim_sources`) with its stream bench
    (cached per design: a rebuild of unchanged RTL is free); returns the bench executable."""
    design = read_design(design_dir)
    chosen = cosim_sources(design_dir, design, rtl)
    return build_stream_bench(chosen.files, design["top"], lint_errors=not chosen.vitis_export)


def stream_words(design_dir: Path, words: np.ndarray, pause: float = 0.0, seed: int = 0,
                 max_cycles: int | None = None, rtl: str | None = None, calls: int = 0) -> BenchRun:
    """Stream one batch of input words (flat) through DIR's RTL (`rtl`: `cosim_sources`):
    as many output words as the batch gives (output.words per sample). On an AXI-Lite
    control: started once with auto-restart (`calls` 0), or `calls` calls
    (`fxhls.sim.verilator_bench.run_stream_bench`)."""
    design = read_design(design_dir)
    words = np.asarray(words, dtype=np.uint64).reshape(-1)
    per_sample = design["input"]["words"]
    if len(words) == 0 or len(words) % per_sample:
        raise ValueError(f"{len(words)} input words are not a whole number of samples of {per_sample} words")
    out_count = len(words) // per_sample * design["output"]["words"]
    if max_cycles is None:
        max_cycles = 100 * (len(words) + out_count) + 10_000
    return run_stream_bench(build_design(design_dir, rtl), words, out_count, pause, seed, max_cycles, calls)


def cosimulate(design_dir: Path, words: np.ndarray, pause: float = 0.3, seed: int = 0,
               max_cycles: int | None = None, rtl: str | None = None) -> CosimRun:
    """The batch `words` through DIR's RTL (`rtl`: `cosim_sources`) twice: under random
    back-pressure (`pause`) for the output, whose TLAST must sit on its last word only
    (on an AXI-Lite control one call per sample); then without, for the timing (on an
    AXI-Lite control started once with auto-restart, as the deploy driver does)."""
    design = read_design(design_dir)
    measured = cosim_sources(design_dir, design, rtl).measured
    samples = len(np.asarray(words).reshape(-1)) // design["input"]["words"]
    first = stream_words(design_dir, words, pause, seed, max_cycles, rtl, calls=samples)
    last = first.last
    if last != [0] * (len(last) - 1) + [1]:
        raise RuntimeError(f"the RTL's output TLAST is on words {[i for i, flag in enumerate(last) if flag]}, "
                           f"expected only on the last of {len(last)}")
    again = stream_words(design_dir, words, 0.0, seed, max_cycles, rtl)
    if not np.array_equal(again.words, first.words):
        raise RuntimeError("the RTL gave other outputs without back-pressure than with it")
    return CosimRun(first.words, stream_timing(again.in_cycles, again.out_cycles, samples), float(design["clock_mhz"]),
                    len(again.done_cycles), measured, first.control, first.done_reads)


def cosim_design(design_dir: Path, x: np.ndarray | None = None, model=None, pause: float = 0.3, seed: int = 0,
                 max_cycles: int | None = None, rtl: str | None = None) -> tuple[np.ndarray, dict]:
    """`fxhls cosim`: the model inputs `x` (batch first; through the host's float work
    and input cast), or without them the testbench's DIR/tb/input_words.txt, through
    DIR's RTL (`rtl`: `cosim_sources`), and its outputs through the host's float work after it. Compared value by
    value with the emulator: `model`'s emulation for `x`, or DIR/tb/expected_words.txt
    for the testbench's inputs. Returns the outputs (float64, batch first) and the
    summary it writes to DIR/report/cosim.json ("mismatches" is None when there is
    nothing to compare with)."""
    from fxhls.emulation import count_differences, emulate
    from fxhls.hls import vectors

    design_dir = Path(design_dir)
    design = read_design(design_dir)
    cosim_sources(design_dir, design, rtl)  # a missing design is said before missing inputs
    expected = None
    if x is None:
        tb = design_dir / "tb"
        if not (tb / "input_words.txt").is_file():
            raise ValueError(f"no inputs: give --input X.npy, or build {design_dir} with its testbench (tb/input_words.txt)")
        words = read_words(tb / "input_words.txt")
        if (tb / "expected_words.txt").is_file():
            expected_words = read_words(tb / "expected_words.txt")
            expected = vectors.host_outputs(design, vectors.from_words(
                design["output"], expected_words.reshape(-1, design["output"]["words"])))
    else:
        codes = vectors.host_inputs(design, x)
        words = vectors.to_words(design["input"], codes).reshape(-1)
        if model is not None:
            expected = emulate(model, x if "host" in design else codes)
    samples = len(words) // design["input"]["words"]
    build_design(design_dir, rtl)  # now, so that the step below measures the simulation alone
    with progress.step(f"co-simulating {samples} samples (Verilator, twice: with and without back-pressure)"):
        run = cosimulate(design_dir, words, pause, seed, max_cycles, rtl)
    y = vectors.host_outputs(design, vectors.from_words(design["output"], run.words.reshape(samples, -1)))
    mismatches = None if expected is None else count_differences(y, expected)
    summary = run.summary(samples, mismatches)
    (design_dir / "report").mkdir(exist_ok=True)
    text = json.dumps(summary, indent=2) + "\n"
    write_file(design_dir / "report" / "cosim.json", lambda file: file.write(text.encode()))
    return y, summary


def main(argv: list[str]) -> int:
    """The file protocol: `DIR in_words.txt out_words.txt` (README: Deploying to the board)."""
    try:
        if len(argv) != 3:
            raise ValueError("usage: python -m fxhls.sim.rtl_cosim DIR in_words.txt out_words.txt")
        design_dir, in_path, out_path = argv
        words = read_words(Path(in_path))
        run = stream_words(Path(design_dir), words)
        if not run.last or run.last[-1] != 1 or any(run.last[:-1]):
            raise RuntimeError("the RTL's output TLAST is missing or not on its last word")
        write_words(Path(out_path), run.words)
    except (ValueError, RuntimeError, OSError) as err:
        print(f"fxhls rtl simulator: {' '.join(str(err).split())[:500]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
