"""Co-simulation of a build directory's RTL (DIR/rtl, top DIR/design.json's "top") with
Verilator and its C++ stream bench (`fxhls.sim.verilator_bench`).

The top's ports are those of the Vitis HLS top (`templates/hls/firmware/top.cpp.j2`):
clock `ap_clk`, active-low reset `ap_rst_n`, AXI-Stream slave `input_words_*` and master
`output_words_*` (TDATA 64 bits, TLAST, TKEEP), so the same bench runs on RTL that Vitis
HLS exports with ap_ctrl_none. A batch goes in as one transfer, TLAST on its last word (the stream format: fxhls/deploy/packing.py).

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
from fxhls.rtl.sources import rtl_sources
from fxhls.sim.cosim import Timing, stream_timing
from fxhls.sim.verilator_bench import build_stream_bench, run_stream_bench
from fxhls.staging import write_file


@dataclass(frozen=True)
class CosimRun:
    """A batch through the RTL: the output words (flat, uint64), and the timing measured
    on a second run without back-pressure."""

    words: np.ndarray
    timing: Timing
    clock_mhz: float

    def summary(self, samples: int, mismatches: int | None) -> dict:
        """What DIR/report/cosim.json holds."""
        interval = self.timing.interval
        return {"samples": samples, **self.timing.as_dict(), "clock_mhz": self.clock_mhz,
                "fps": self.clock_mhz * 1e6 / interval, "mismatches": mismatches}


def read_design(design_dir: Path) -> dict:
    """DIR/design.json, with a clear error when DIR is not a build directory with RTL."""
    design = read_design_file(Path(design_dir) / "design.json")
    rtl_sources(design_dir)
    return design


def build_design(design_dir: Path) -> Path:
    """The Verilator build of DIR/rtl with its stream bench (cached per design: a rebuild
    of unchanged RTL is free); returns the bench executable."""
    design = read_design(design_dir)
    return build_stream_bench(rtl_sources(design_dir), design["top"])


def stream_words(design_dir: Path, words: np.ndarray, pause: float = 0.0, seed: int = 0,
                 max_cycles: int | None = None) -> tuple[np.ndarray, list[int], list[int], list[int]]:
    """Stream one batch of input words (flat) through DIR's RTL; returns the output words
    (as many as the batch gives: output.words per sample), their TLAST flags, and the
    cycles of the input and output beats."""
    design = read_design(design_dir)
    words = np.asarray(words, dtype=np.uint64).reshape(-1)
    per_sample = design["input"]["words"]
    if len(words) == 0 or len(words) % per_sample:
        raise ValueError(f"{len(words)} input words are not a whole number of samples of {per_sample} words")
    out_count = len(words) // per_sample * design["output"]["words"]
    if max_cycles is None:
        max_cycles = 100 * (len(words) + out_count) + 10_000
    return run_stream_bench(build_design(design_dir), words, out_count, pause, seed, max_cycles)


def cosimulate(design_dir: Path, words: np.ndarray, pause: float = 0.3, seed: int = 0,
               max_cycles: int | None = None) -> CosimRun:
    """The batch `words` through DIR's RTL twice: under random back-pressure (`pause`)
    for the output, whose TLAST must sit on its last word only; then without, for the timing."""
    design = read_design(design_dir)
    out, last, _, _ = stream_words(design_dir, words, pause, seed, max_cycles)
    if last != [0] * (len(last) - 1) + [1]:
        raise RuntimeError(f"the RTL's output TLAST is on words {[i for i, flag in enumerate(last) if flag]}, "
                           f"expected only on the last of {len(last)}")
    samples = len(np.asarray(words).reshape(-1)) // design["input"]["words"]
    again, _, in_cycles, out_cycles = stream_words(design_dir, words, 0.0, seed, max_cycles)
    if not np.array_equal(again, out):
        raise RuntimeError("the RTL gave other outputs without back-pressure than with it")
    return CosimRun(out, stream_timing(in_cycles, out_cycles, samples), float(design["clock_mhz"]))


def cosim_design(design_dir: Path, x: np.ndarray | None = None, model=None, pause: float = 0.3, seed: int = 0,
                 max_cycles: int | None = None) -> tuple[np.ndarray, dict]:
    """`fxhls cosim`: the model inputs `x` (batch first; through the host's float work
    and input cast), or without them the testbench's DIR/tb/input_words.txt, through
    DIR's RTL, and its outputs through the host's float work after it. Compared value by
    value with the emulator: `model`'s emulation for `x`, or DIR/tb/expected_words.txt
    for the testbench's inputs. Returns the outputs (float64, batch first) and the
    summary it writes to DIR/report/cosim.json ("mismatches" is None when there is
    nothing to compare with)."""
    from fxhls.emulation import count_differences, emulate
    from fxhls.hls import vectors

    design_dir = Path(design_dir)
    design = read_design(design_dir)
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
    build_design(design_dir)  # now, so that the step below measures the simulation alone
    with progress.step(f"co-simulating {samples} samples (Verilator, twice: with and without back-pressure)"):
        run = cosimulate(design_dir, words, pause, seed, max_cycles)
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
        out, last, _, _ = stream_words(Path(design_dir), words)
        if not last or last[-1] != 1 or any(last[:-1]):
            raise RuntimeError("the RTL's output TLAST is missing or not on its last word")
        write_words(Path(out_path), out)
    except (ValueError, RuntimeError, OSError) as err:
        print(f"fxhls rtl simulator: {' '.join(str(err).split())[:500]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
