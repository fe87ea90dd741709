"""`fxhls build --synth`: Vitis HLS C simulation and synthesis of a build directory
when `vitis_hls` is on PATH, and its synthesis report; otherwise what to run where."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from fxhls import progress

RESOURCES = ("DSP", "LUT", "FF", "BRAM_18K", "URAM")


def find_vitis_hls() -> str | None:
    """The vitis_hls executable on PATH, or None."""
    return shutil.which("vitis_hls")


def synthesize(project_dir, top: str) -> dict:
    """Run `vitis_hls -f build_prj.tcl -tclargs csim synth` in the project; returns its
    synthesis report (`read_csynth_report`). RuntimeError when Vitis HLS fails."""
    executable = find_vitis_hls()
    if executable is None:
        raise RuntimeError(synthesis_instructions(project_dir))
    status, tail = progress.run_streamed([executable, "-f", "build_prj.tcl", "-tclargs", "csim", "synth"], project_dir,
                                         "Vitis HLS: C simulation and synthesis")
    if status != 0:
        raise RuntimeError(f"vitis_hls failed (exit {status}) in {project_dir}: {' | '.join(tail)}")
    return read_csynth_report(project_dir, top)


def read_csynth_report(project_dir, top: str) -> dict:
    """Latency, interval, clock and resources from the C synthesis report
    (<top>_prj/solution1/syn/report/<top>_csynth.xml)."""
    path = Path(project_dir) / f"{top}_prj" / "solution1" / "syn" / "report" / f"{top}_csynth.xml"
    if not path.is_file():
        raise RuntimeError(f"no synthesis report at {path}")
    root = ElementTree.parse(path).getroot()
    latency = root.find("./PerformanceEstimates/SummaryOfOverallLatency")
    report = {
        "clock_ns": float(root.findtext("./PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod")),
        "latency_cycles": [latency.findtext("Best-caseLatency"), latency.findtext("Worst-caseLatency")],
        "interval_cycles": [latency.findtext("Interval-min"), latency.findtext("Interval-max")],
    }
    used, available = root.find("./AreaEstimates/Resources"), root.find("./AreaEstimates/AvailableResources")
    for name in RESOURCES:
        tag = "DSP48E" if name == "DSP" and used.find("DSP") is None else name
        if used.find(tag) is not None:
            report[name] = (int(used.findtext(tag)), int(available.findtext(tag)))
    return report


def synthesis_instructions(project_dir) -> str:
    """What to run, where, without Vitis HLS on this machine."""
    return (f"vitis_hls is not on PATH here: install AMD Vitis HLS and `source <Vitis install>/settings64.sh`, or "
            f"copy {project_dir} to a machine with it; there run `cd {project_dir} && vitis_hls -f build_prj.tcl` "
            f"(C simulation, synthesis, co-simulation and the IP export to {project_dir}/ip), then "
            f"`deploy/build_bitstream.sh` with Vivado for the bitstream")
