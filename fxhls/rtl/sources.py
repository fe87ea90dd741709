"""DIR/rtl/ of a build directory: its Verilog sources, or the RTL backend's refusal; and
which Verilog `fxhls cosim` simulates: fxhls's (DIR/rtl) or the Vitis HLS export of the
C++ (`cosim_sources`).

`fxhls build` writes the HLS project of every model it supports; the RTL backend
(`fxhls.rtl.writer`) may refuse a model (an op without an RTL stage: a defect the README
lists). Then the build still succeeds with the HLS backend and DIR/rtl/ holds
REFUSED.txt, the one-line reason, which the RTL commands (cosim, the yosys report) repeat.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

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


# Where the Vitis HLS export's Verilog lies, first found first: the IP that build_prj.tcl
# copies to DIR/ip (what the deploy flow puts on the board), then the project's own.
HLS_EXPORT_FOLDERS = ("ip/hdl/verilog", "{top}_prj/solution1/impl/verilog")
RTL_CHOICES = ("hls", "fxhls")


def hls_export_sources(design_dir, top: str) -> tuple[list[Path], Path | None]:
    """The Vitis HLS export's Verilog (*.v, sorted) and its folder; ([], None) when Vitis has not exported it."""
    for folder in HLS_EXPORT_FOLDERS:
        path = Path(design_dir) / folder.format(top=top)
        sources = sorted(path.glob("*.v"))
        if sources:
            return sources, path
    return [], None


class CosimSources(NamedTuple):
    """The Verilog files to co-simulate, what they are in words, and whether they are the
    Vitis HLS export (rather than fxhls's own Verilog)."""

    files: list[Path]
    measured: str
    vitis_export: bool


def cosim_sources(design_dir, design: dict, rtl: str | None = None) -> CosimSources:
    """The Verilog to co-simulate. `rtl`: "hls" (the Vitis HLS export, a ValueError when
    there is none), "fxhls" (DIR/rtl), or None: the design the deploy package puts on the
    board (design.json's backend), falling back to fxhls's Verilog, with the reason, when
    the HLS backend's export is not there yet."""
    from fxhls.deploy.backend import design_backend

    if rtl is not None and rtl not in RTL_CHOICES:
        raise ValueError(f"unknown --rtl {rtl!r}; the choices are {', '.join(RTL_CHOICES)}")
    backend = design_backend(design)
    export, folder = hls_export_sources(design_dir, design["top"])
    if rtl == "hls" and not export:
        raise ValueError(f"--rtl hls: no Vitis HLS export in {design_dir} "
                         f"({' or '.join(HLS_EXPORT_FOLDERS).format(top=design['top'])}); run vitis_hls -f build_prj.tcl there")
    if rtl == "hls" or (rtl is None and backend == "hls" and export):
        return CosimSources(export, f"the Vitis HLS export of the C++ ({folder})", True)
    deployed = "the deployed design" if backend == "rtl" else "not the deployed design (backend hls)"
    why = " (Vitis HLS has not exported the HLS design)" if rtl is None and backend == "hls" else ""
    measured = f"fxhls's Verilog ({Path(design_dir) / 'rtl'}), {deployed}{why}"
    return CosimSources(rtl_sources(design_dir), measured, False)
