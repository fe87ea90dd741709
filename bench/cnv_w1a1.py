"""FINN's CNV-W1A1 (brevitas_examples.bnn_pynq, 32x32x3 input, untrained, random BatchNorm)
through fxhls for the Ultra96-V2: its RTL top co-simulated (clocks per inference, outputs
against the emulator with the host's float work around the RTL), then synthesized by yosys
(LUT, FF, BRAM, DSP against the board's).

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


if __name__ == "__main__":
    main()
