"""FINN's CNV-W1A1 (brevitas_examples.bnn_pynq, 32x32x3 input, untrained, random BatchNorm)
through fxhls for the Ultra96-V2: its RTL top co-simulated (clocks per inference, outputs
against the emulator with the host's float work around the RTL), then synthesized by yosys
(LUT, FF, BRAM, DSP against the board's).

FINN's published figures for the same network, printed beside fxhls's: the FINN paper
(Umuroglu et al., "FINN: A Framework for Fast, Scalable Binarized Neural Network
Inference", FPGA 2017, arXiv:1612.07119) reports CNV on CIFAR-10 at 21,906 images/s with
283 us latency on a ZC706 (xc7z045), not on the Ultra96-V2. finn-examples (Xilinx/
finn-examples) ships CNV-W1A1 bitfiles for the Ultra96 but publishes no throughput or
resource figures for them; no Ultra96-V2 figure for this network was found.

The model is the tests' export (tests/float_scaled_models.finn_example). The Verilator
build of the whole network is large: on a 2-core machine it took about 25 minutes, and
yosys about as long; both are cached by fxhls afterwards.

Run from the repository root:  .venv/bin/python bench/cnv_w1a1.py [--out DIR] [--samples N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import warnings
from pathlib import Path

from fxhls.hls.build import build_project
from fxhls.rtl.report import format_table, report_design, timing_text
from fxhls.sim.rtl_cosim import cosim_design

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from float_scaled_models import finn_example  # noqa: E402  (the model the tests check)

# (source, board, images/s, latency in us): published figures for CNV-W1A1 on CIFAR-10
FINN_PUBLISHED = [("FINN paper, FPGA 2017 (arXiv:1612.07119), CNV max configuration", "ZC706 (xc7z045)",
                   21906, 283)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="cnv_1w1a", help="a bnn_pynq network (tfc_1w1a runs in minutes)")
    parser.add_argument("--out", default=None, help="the build directory (default hls_projects/NETWORK)")
    parser.add_argument("--samples", type=int, default=2, help="inputs to co-simulate")
    args = parser.parse_args()
    out = Path(args.out or f"hls_projects/{args.network}")
    model = out.parent / f"{args.network}.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        x = finn_example(args.network, model, args.samples)
    build_project(model, "ultra96v2", out, force=True)
    y, summary = cosim_design(out, x, model=model)
    print(f"co-simulation: {summary['mismatches']} of {y.size} outputs differ from the emulator; "
          f"{summary['interval_cycles']:.0f} clocks per inference, {summary['fps']:,.0f} inferences/s at "
          f"{summary['clock_mhz']:g} MHz")
    report = report_design(out)
    print(format_table(report.rows, report.dsp_name))
    print(timing_text(report.timing))
    if args.network == "cnv_1w1a":
        for source, board, fps, latency in FINN_PUBLISHED:
            print(f"published: {source}: {fps:,} images/s, {latency} us latency on {board}; fxhls's figure above is "
                  f"{summary['fps'] / fps:.2f} times that (a different board: no Ultra96-V2 figure was found)")


if __name__ == "__main__":
    main()
