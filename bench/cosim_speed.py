"""Co-simulation speed: the C++ Verilator stream bench of `fxhls cosim` against the cocotb
bench it replaced for whole designs, on the bundled MNIST model's RTL.

Both benches stream the same batch under the same random back-pressure (pause 0.3)
through the same Verilated design; their outputs must be equal (counted). Printed per
bench: samples, simulated clock cycles, wall seconds of the simulation alone (the builds
are made first, untimed), cycles per second, and the ratio. Then the C++ bench alone on
1,000 images, the figure the README quotes.

Run from the repository root:  .venv/bin/python bench/cosim_speed.py [--samples 32]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from fxhls.hls import vectors
from fxhls.hls.build import build_project
from fxhls.rtl.sources import rtl_sources
from fxhls.sim.cosim import simulate_streams
from fxhls.sim.rtl_cosim import build_design, read_design, stream_words
from fxhls.sim.verilator import build

MODEL = Path("examples/models/mnist_khot_cnn")
PAUSE, SEED = 0.3, 1


def cocotb_run(design_dir: Path, words: np.ndarray, out_count: int):
    design = read_design(design_dir)
    build_dir = build(rtl_sources(design_dir), design["top"])
    start = time.perf_counter()
    run = simulate_streams(build_dir, design["top"], {"input_words": [int(w) for w in words]},
                           {"output_words": out_count}, pause=PAUSE, seed=SEED, last=True,
                           clock="ap_clk", reset="ap_rst_n", max_cycles=100 * (len(words) + out_count) + 10_000)
    return np.array(run.outputs["output_words"], dtype=np.uint64), run.output_cycles["output_words"][-1], \
        time.perf_counter() - start


def cpp_run(design_dir: Path, words: np.ndarray):
    build_design(design_dir)  # the build, untimed
    start = time.perf_counter()
    run = stream_words(design_dir, words, PAUSE, SEED)
    return run.words, run.out_cycles[-1], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=32, help="images for the side-by-side run (default 32)")
    args = parser.parse_args()
    images = np.load(f"{MODEL}_inputs.npy")
    with tempfile.TemporaryDirectory() as work:
        design_dir, _ = build_project(f"{MODEL}.onnx", "ultra96v2", Path(work) / "build")
        design = read_design(design_dir)
        batch = np.resize(images, (max(args.samples, 1000), *images.shape[1:]))
        words = vectors.to_words(design["input"], vectors.cast_inputs(design, batch)).reshape(-1)
        per_sample = design["input"]["words"]
        small = words[:args.samples * per_sample]
        cocotb_out, cocotb_cycles, cocotb_s = cocotb_run(design_dir, small, args.samples * design["output"]["words"])
        cpp_out, cpp_cycles, cpp_s = cpp_run(design_dir, small)
        print(f"{'bench':8} {'samples':>8} {'cycles':>10} {'seconds':>9} {'cycles/s':>12}")
        for name, cycles, seconds in (("cocotb", cocotb_cycles, cocotb_s), ("C++", cpp_cycles, cpp_s)):
            print(f"{name:8} {args.samples:8d} {cycles:10d} {seconds:9.2f} {cycles / seconds:12,.0f}")
        differ = int((cocotb_out != cpp_out).sum()) if cocotb_out.shape == cpp_out.shape else cpp_out.size
        print(f"C++ bench: {(cpp_cycles / cpp_s) / (cocotb_cycles / cocotb_s):.1f}x the cocotb bench's cycles per "
              f"second; {differ} of {cpp_out.size} output words differ between them")
        _, thousand_cycles, thousand_s = cpp_run(design_dir, words[:1000 * per_sample])
        print(f"C++ bench, 1,000 images: {thousand_cycles:,} cycles in {thousand_s:.1f} s "
              f"({thousand_cycles / thousand_s:,.0f} cycles/s)")


if __name__ == "__main__":
    main()
