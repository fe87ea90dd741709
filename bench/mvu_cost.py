"""The LUT cost model of the RTL's compute layers (`fxhls.rtl.costs`): yosys `synth_xilinx
-family xcup` of `fxhls_mvu` and `fxhls_window` at a few sizes, counted as `fxhls report`
counts them (no flattening: the weight ROM is outside the MVU, so its weights are not
constants to it), against the model's estimate, and a least-squares fit of the model's
constants to these measurements (what `fxhls/rtl/costs.py` holds, rounded). The MVUs fold
by SF = NF = 2 and have no pipeline registers (DOT_STAGE = 0); their LUT levels are those
`fxhls.rtl.costs.product_levels` and the adder tree's height add up to.

    .venv/bin/python bench/mvu_cost.py        # about 3 minutes of yosys on a shared 2-core machine
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

from fxhls.rtl.costs import MVU_LUT, WINDOW_LUT, mvu_lut_terms, window_lut_terms
from fxhls.rtl.library import library_sources
from fxhls.rtl.netlist import lut_levels
from fxhls.rtl.report import Resources
from fxhls.rtl.yosys import run_yosys

# (kind, SIMD, PE, X_W, W_W, K, SHIFT_W, ACC_W); W_W of K-hot: K * (SHIFT_W + 2)
MVUS = [("khot", 8, 2, 8, 10, 2, 3, 24), ("khot", 16, 2, 8, 5, 1, 3, 24), ("khot", 8, 4, 8, 8, 2, 2, 20),
        ("khot", 8, 2, 8, 15, 3, 3, 24), ("khot", 16, 1, 8, 12, 2, 4, 28), ("khot", 32, 4, 8, 10, 2, 3, 27),
        ("mul", 8, 2, 8, 8, 1, 1, 24), ("mul", 16, 2, 8, 8, 1, 1, 26),
        ("xnor", 64, 2, 1, 1, 1, 1, 10), ("xnor", 128, 4, 1, 1, 1, 1, 11)]
# (C lanes, X_W, H, W, TAPS)
WINDOWS = [(1, 8, 28, 28, 9), (8, 8, 14, 14, 9), (4, 8, 14, 14, 3), (16, 1, 32, 32, 9)]


def synthesize(module: str, parameters: dict, work: Path) -> tuple[int, int, int]:
    """(LUT, DSP, LUT levels) of library `module` with `parameters`."""
    reads = "\n".join(f"read_verilog -sv {path}" for path in library_sources(module))
    sets = " ".join(f"-set {key} {json.dumps(value) if isinstance(value, str) else value}"
                    for key, value in parameters.items())
    netlist = work / f"{module}.json"
    run_yosys(f"{reads}\nchparam {sets} {module}\nsynth_xilinx -family xcup -noiopad -top {module}\nflatten\n"
              f"json -o {netlist} {module}", f"yosys synthesis of {module}")
    cells = json.loads(netlist.read_text())["modules"][module]["cells"]
    counts: dict[str, int] = {}
    for cell in cells.values():
        counts[cell["type"]] = counts.get(cell["type"], 0) + 1
    used = Resources.from_cells(counts)
    return used.lut, used.dsp, lut_levels(cells)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="mvu_cost_"))
    rows, mvu_terms, mvu_luts, window_terms, window_luts = [], [], [], [], []
    for kind, simd, pe, x_w, w_w, k, shift, acc in MVUS:
        parameters = {"KIND": kind, "SIMD": simd, "PE": pe, "SF": 2, "NF": 2, "X_W": x_w, "X_BINARY": int(kind == "xnor"),
                      "X_SIGNED": 0, "W_W": w_w, "K": k, "SHIFT_W": shift, "ACC_W": acc, "DOT_W": acc, "ACC_FRAC": 0}
        lut, dsp, levels = synthesize("fxhls_mvu", parameters, work)
        terms = mvu_lut_terms(kind, simd, pe, x_w, k, shift, w_w, acc)
        mvu_terms.append(terms)
        mvu_luts.append(lut)
        rows.append((f"fxhls_mvu {kind} SIMD={simd} PE={pe} X_W={x_w} K={k} SHIFT_W={shift}", lut, float(np.dot(terms, MVU_LUT)), dsp, levels))
    for lanes, x_w, height, width, taps in WINDOWS:
        parameters = {"C": lanes, "SIMD": lanes, "X_W": x_w, "H": height, "W": width, "KH": 3, "KW": 3, "PH": 1, "PW": 1,
                      "ROWS": 4, "TAPS": taps}
        lut, dsp, levels = synthesize("fxhls_window", parameters, work)
        terms = window_lut_terms(lanes, x_w, 4 * (1 << math.ceil(math.log2(width))), taps)
        window_terms.append(terms)
        window_luts.append(lut)
        rows.append((f"fxhls_window C={lanes} X_W={x_w} {height}x{width} TAPS={taps}", lut, float(np.dot(terms, WINDOW_LUT)), dsp, levels))
    print("| module | LUT (yosys) | LUT (model) | model / yosys | DSP | LUT levels |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, lut, model, dsp, levels in rows:
        print(f"| {name} | {lut:,} | {model:,.0f} | {model / lut:.2f} | {dsp} | {levels} |")
    mvu_fit = np.linalg.lstsq(np.array(mvu_terms, float), np.array(mvu_luts, float), rcond=None)[0]
    window_fit = np.linalg.lstsq(np.array(window_terms, float), np.array(window_luts, float), rcond=None)[0]
    print(f"least-squares fit: MVU_LUT = {tuple(round(float(c), 3) for c in mvu_fit)}, "
          f"WINDOW_LUT = {tuple(round(float(c), 3) for c in window_fit)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
