"""Which backend's IP goes on the board: "hls" (the C++ through Vitis HLS) or "rtl"
(fxhls's Verilog, packaged as a Vivado IP by DIR/deploy/package_ip.tcl).

Both IPs have the same AXI-Stream ports; they differ in control: the HLS IP has an
AXI-Lite control register (ap_ctrl_hs, started once with auto-restart), the RTL IP none
(ap_ctrl_none: it runs whenever words come). design.json records the choice ("backend").
"""

from __future__ import annotations

import shutil

BACKENDS = ("hls", "rtl")
# The IP each backend's flow writes, relative to DIR/deploy.
IP_REPOS = {"hls": "../ip", "rtl": "../rtl_ip"}


def design_backend(design: dict) -> str:
    """The backend of `design` (design.json's content; "hls" when it names none)."""
    backend = design.get("backend", "hls")
    if backend not in BACKENDS:
        raise ValueError(f"design.json names backend {backend!r}; the backends are {', '.join(BACKENDS)}")
    return backend


def choose_backend(requested: str | None, rtl_refusal: str | None) -> tuple[str, str]:
    """(backend, why) for `requested` ("hls", "rtl" or None: choose) when the RTL backend
    refused the model for `rtl_refusal` (None: it did not). By default the RTL, which needs
    only Vivado and is what `fxhls cosim` and `fxhls report` measure, unless it refuses
    the model; "rtl" for a model it refuses is a ValueError naming the reason."""
    if requested is not None and requested not in BACKENDS:
        raise ValueError(f"unknown backend {requested!r}; the backends are {', '.join(BACKENDS)}")
    if requested == "rtl" and rtl_refusal is not None:
        raise ValueError(f"--backend rtl: the RTL backend refuses this model: {rtl_refusal}")
    if requested is not None:
        return requested, "as asked"
    if rtl_refusal is not None:
        return "hls", f"the RTL backend refuses this model ({rtl_refusal})"
    tools = [tool for tool in ("vivado", "vitis_hls") if shutil.which(tool)]
    found = f"{' and '.join(tools)} on PATH" if tools else "neither vivado nor vitis_hls is on PATH"
    return "rtl", f"it covers the model and needs only Vivado to deploy, no Vitis HLS ({found})"
