"""DIR/rtl/ of a build directory: its Verilog sources, or the RTL backend's refusal.

`fxhls build` writes the HLS project of every model it supports; the RTL backend
(`fxhls.rtl.writer`) may refuse a model (an op without an RTL stage: a defect the README
lists). Then the build still succeeds with the HLS backend and DIR/rtl/ holds
REFUSED.txt, the one-line reason, which the RTL commands (cosim, the yosys report) repeat.
"""

from __future__ import annotations

import shutil
from pathlib import Path

REFUSAL_FILE = "REFUSED.txt"


def write_refusal(out_dir, reason: str) -> None:
    """Replace DIR/rtl/ by REFUSED.txt holding `reason`."""
    rtl = Path(out_dir) / "rtl"
    shutil.rmtree(rtl, ignore_errors=True)
    rtl.mkdir(parents=True)
    (rtl / REFUSAL_FILE).write_text(f"{reason}\n")


def rtl_refusal(design_dir) -> str | None:
    """Why the RTL backend refused the build in `design_dir`, or None."""
    path = Path(design_dir) / "rtl" / REFUSAL_FILE
    return path.read_text().strip() if path.is_file() else None


def rtl_sources(design_dir) -> list[Path]:
    """DIR/rtl/*.v, sorted; a ValueError saying why when there are none."""
    rtl = Path(design_dir) / "rtl"
    sources = sorted(rtl.glob("*.v"))
    if sources:
        return sources
    refusal = rtl_refusal(design_dir)
    if refusal is not None:
        raise ValueError(f"no Verilog in {rtl}: the RTL backend refused this model ({refusal}); "
                         f"the HLS project in {design_dir} is complete")
    raise ValueError(f"no Verilog in {rtl}; `fxhls build` writes it there")
