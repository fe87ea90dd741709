"""Co-simulation of a build directory's RTL (DIR/rtl, top DIR/design.json's "top") with
Verilator and the cocotb stream bench.

The top's ports are those of the Vitis HLS top (`templates/hls/firmware/top.cpp.j2`):
clock `ap_clk`, active-low reset `ap_rst_n`, AXI-Stream slave `input_words_*` and master
`output_words_*` (TDATA 64 bits, TLAST, TKEEP), so the same bench runs on RTL that Vitis
HLS exports. A batch goes in as one transfer, TLAST on its last word (contracts.md 2).

Also the simulator of the deploy driver's file protocol (contracts.md 3a):
`python -m fxhls.sim.rtl_cosim DIR in_words.txt out_words.txt`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fxhls.deploy.transports import read_words, write_words
from fxhls.rtl.sources import rtl_sources
from fxhls.sim.cosim import Timing, simulate_streams, stream_timing
from fxhls.sim.verilator import build

CLOCK, RESET, INPUT, OUTPUT = "ap_clk", "ap_rst_n", "input_words", "output_words"


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
    design_dir = Path(design_dir)
    design_file = design_dir / "design.json"
    if not design_file.is_file():
        raise ValueError(f"{design_file} not found; `fxhls build MODEL.onnx --out {design_dir}` writes it")
    rtl_sources(design_dir)
    return json.loads(design_file.read_text())


def build_design(design_dir: Path) -> Path:
    """The Verilator build of DIR/rtl (cached per design: a rebuild of unchanged RTL is free)."""
    design = read_design(design_dir)
    return build(rtl_sources(design_dir), design["top"])


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
    samples = len(words) // per_sample
    run = simulate_streams(
        build_design(design_dir), design["top"], {INPUT: [int(w) for w in words]},
        {OUTPUT: samples * design["output"]["words"]}, pause=pause, seed=seed, last=True,
        clock=CLOCK, reset=RESET, max_cycles=max_cycles,
    )
    out = np.array(run.outputs[OUTPUT], dtype=np.uint64)
    return out, run.output_last[OUTPUT], run.input_cycles[INPUT], run.output_cycles[OUTPUT]


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
    from fxhls.emulation import emulate
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
    run = cosimulate(design_dir, words, pause, seed, max_cycles)
    samples = len(words) // design["input"]["words"]
    y = vectors.host_outputs(design, vectors.from_words(design["output"], run.words.reshape(samples, -1)))
    mismatches = None if expected is None else int((y != expected.reshape(y.shape)).sum())
    summary = run.summary(samples, mismatches)
    (design_dir / "report").mkdir(exist_ok=True)
    (design_dir / "report" / "cosim.json").write_text(json.dumps(summary, indent=2) + "\n")
    return y, summary


def main(argv: list[str]) -> int:
    """The file protocol: `DIR in_words.txt out_words.txt` (contracts.md 3a)."""
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
