"""Finding the tools fxhls runs: the `ap_fixed` headers and a C++ compiler."""

from __future__ import annotations

import os
import shutil
from importlib import util as importlib_util
from pathlib import Path

INSTALL_HINT = ("run `pip install hls4ml` (its wheel ships them; fxhls depends on it) or set XILINX_HLS to "
                "your Vitis HLS installation")


class ToolNotFoundError(RuntimeError):
    """A tool fxhls needs is missing; the message says how to install it."""


def ap_types_include_dir() -> Path:
    """The folder holding `ap_fixed.h`: `$XILINX_HLS/include` when set, else the hls4ml wheel's copy."""
    xilinx_hls = os.environ.get("XILINX_HLS")
    if xilinx_hls:
        include = Path(xilinx_hls) / "include"
        if (include / "ap_fixed.h").is_file():
            return include
        raise ToolNotFoundError(f"XILINX_HLS is set to {xilinx_hls} but {include}/ap_fixed.h is missing")
    spec = importlib_util.find_spec("hls4ml")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            include = Path(location) / "templates" / "vivado" / "ap_types"
            if (include / "ap_fixed.h").is_file():
                return include
    raise ToolNotFoundError(f"the ap_fixed headers were not found; {INSTALL_HINT}")


def cxx_compiler() -> str:
    """The C++ compiler: `$CXX` or g++ on PATH."""
    compiler = os.environ.get("CXX") or shutil.which("g++")
    if not compiler:
        raise ToolNotFoundError("no C++ compiler found; install g++ (apt-get install g++) or set CXX")
    return compiler
