"""Resource reports: yosys `synth_xilinx` on a design's Verilog, its LUT, FF, DSP and BRAM
counts next to the board's capacity, with the timing from co-simulation when there is one.

yosys's counts are estimates of a synthesis without Vivado's optimisations (no retiming,
no cross-boundary optimisation of the netlist yosys hands over), so they are
comparable between designs, not a substitute for Vivado's utilisation report.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from fxhls.cache import cached_file, content_key, default_cache_dir
from fxhls.deploy.interface import read_design
from fxhls.rtl.sources import rtl_sources
from fxhls.rtl.yosys import run_yosys, yosys_version

# yosys's -family for each board family (fxhls.board.FAMILIES).
YOSYS_FAMILIES = {"zynq_ultrascale_plus": "xcup", "zynq7000": "xc7"}

# LUTs that each LUT-RAM or shift-register primitive occupies.
_LUT_MEMORY = {
    "RAM32X1S": 1, "RAM32X1D": 2, "RAM32M": 4, "RAM32M16": 8, "RAM64X1S": 1, "RAM64X1D": 2,
    "RAM64M": 4, "RAM64M8": 8, "RAM128X1S": 2, "RAM128X1D": 4, "RAM256X1S": 4, "RAM256X1D": 8,
    "RAM512X1S": 8, "SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1,
}
_FLIP_FLOPS = ("FDRE", "FDSE", "FDCE", "FDPE", "LDCE", "LDPE")
_DSPS = ("DSP48E2", "DSP48E1")
_BLOCK_RAMS = {"RAMB36E2": 1.0, "RAMB36E1": 1.0, "FIFO36E2": 1.0, "RAMB18E2": 0.5, "RAMB18E1": 0.5, "FIFO18E2": 0.5}


@dataclass(frozen=True)
class Resources:
    """What yosys mapped a design to: LUTs (logic and LUT-RAM), flip-flops, DSP slices,
    block RAMs in 36 Kb units, and the count of every cell type."""

    lut: int
    ff: int
    dsp: int
    bram36: float
    lut_as_memory: int
    cells: dict

    @classmethod
    def from_cells(cls, cells: dict[str, int]) -> Resources:
        logic = sum(count for cell, count in cells.items() if cell.startswith("LUT"))
        memory = sum(_LUT_MEMORY.get(cell, 0) * count for cell, count in cells.items())
        return cls(
            lut=logic + memory,
            ff=sum(cells.get(cell, 0) for cell in _FLIP_FLOPS),
            dsp=sum(cells.get(cell, 0) for cell in _DSPS),
            bram36=sum(_BLOCK_RAMS.get(cell, 0.0) * count for cell, count in cells.items()),
            lut_as_memory=memory,
            cells=dict(sorted(cells.items())),
        )


def synthesis_script(sources: list[Path], top: str, family: str, flatten: bool) -> tuple[str, Path]:
    """yosys's commands that read `sources` and run `synth_xilinx` (with -flatten or not),
    and the cache folder of their results: a hash of the commands, the sources' names and
    contents and yosys's version. A one-line ValueError for an unknown family or no sources."""
    if family not in YOSYS_FAMILIES.values():
        raise ValueError(f"unknown yosys family {family!r}; supported: {', '.join(YOSYS_FAMILIES.values())}")
    if not sources:
        raise ValueError(f"no Verilog sources to synthesize for {top!r}")
    script = f"synth_xilinx -family {family} -noiopad{' -flatten' if flatten else ''} -top {top}"
    reads = "\n".join(f"read_verilog -sv {Path(source).resolve()}" for source in sources)
    key = content_key(f"{script}\0{yosys_version()}", sources)
    return f"{reads}\n{script}", default_cache_dir() / "yosys" / key


def synthesize(sources: list[Path], top: str, family: str = "xcup") -> Resources:
    """Synthesize `sources` (Verilog) with `top` as the top module for a Xilinx family
    (yosys `synth_xilinx -family <family> -noiopad -flatten`) and count the cells. The
    counts are cached (`synthesis_script`): a report of an unchanged design costs no synthesis."""
    script, folder = synthesis_script(sources, top, family, flatten=True)

    def run(stat: Path) -> None:
        run_yosys(f"{script}\ntee -q -o {stat} stat -json", f"yosys synthesis of {top}")

    stat = cached_file(folder, "stat.json", run)
    design = json.loads(stat.read_text())["design"]
    return Resources.from_cells(design.get("num_cells_by_type", {}))


def resource_rows(used: Resources, capacity: dict) -> list[dict]:
    """One row per resource: name, used, available on the board, and the percentage."""
    rows = []
    for key, name in (("lut", "LUT"), ("ff", "FF"), ("dsp", "DSP"), ("bram36", "BRAM36")):
        available = capacity[key]
        value = getattr(used, key)
        rows.append({"resource": name, "used": value, "available": available, "percent": 100.0 * value / available})
    return rows


def format_table(rows: list[dict], dsp_name: str) -> str:
    """The rows as a Markdown table (DSP named as the board's slice, e.g. DSP48E2)."""
    lines = ["| resource | used | available | utilisation |", "|---|---:|---:|---:|"]
    for row in rows:
        name = dsp_name if row["resource"] == "DSP" else row["resource"]
        used = f"{row['used']:g}"
        lines.append(f"| {name} | {used} | {row['available']:g} | {row['percent']:.1f}% |")
    return "\n".join(lines)


def write_resources(report_dir: Path, used: Resources, rows: list[dict], timing: dict | None,
                    per_stage: dict | None = None) -> Path:
    """DIR/report/resources.json: the counts, the table rows, the timing (if any) and
    `per_stage` (the measured design, the stages' rows and LUT levels)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "resources.json"
    saved = {"resources": asdict(used), "rows": rows, "timing": timing, **(per_stage or {})}
    path.write_text(json.dumps(saved, indent=2) + "\n")
    return path


@dataclass(frozen=True)
class DesignReport:
    """`fxhls report DIR`'s result: the table's rows, the timing from DIR/report/cosim.json
    (None before co-simulation), the files written, the design measured, per stage
    its rows and their Markdown table (`fxhls.rtl.layer_report`), and the line comparing
    the co-simulated interval with the estimate (`fxhls.rtl.estimate_check`; None without one)."""

    top: str
    board: str
    dsp_name: str
    resources: Resources
    rows: list
    timing: dict | None
    files: list
    measured: str
    layers: list
    layer_table: str
    estimate: str | None


def measured_design(design: dict) -> str:
    """Which design the report describes, next to the one the deploy package puts on the board."""
    from fxhls.deploy.backend import design_backend

    if design_backend(design) == "rtl":
        return "fxhls's Verilog (DIR/rtl), the design the deploy package puts on the board (backend rtl)"
    return ("fxhls's Verilog (DIR/rtl); the deploy package puts the Vitis HLS export of the C++ on the board "
            "(backend hls), which Vitis HLS's own report describes")


def report_design(design_dir: Path) -> DesignReport:
    """Synthesize DIR/rtl with yosys for DIR/design.json's board, flattened for the totals
    and per instance for each stage's numbers (`fxhls.rtl.layer_report`); write DIR/report/
    resources.json, resources.md and resources.png (the plot, when matplotlib is installed)."""
    from fxhls.board import design_board
    from fxhls.rtl.estimate_check import estimate_comparison
    from fxhls.rtl.layer_report import format_layer_table, layer_rows, levels_that_fit, synthesize_instances
    from fxhls.rtl.plot import plot_resources
    from fxhls.rtl.stage_rows import read_stage_rows

    design_dir = Path(design_dir)
    design = read_design(design_dir / "design.json")
    sources = rtl_sources(design_dir)
    board = design_board(design)
    family = YOSYS_FAMILIES[board.family]
    stages = read_stage_rows(design_dir, design["top"])
    used = synthesize(sources, design["top"], family)
    numbers, design_levels = synthesize_instances(sources, design["top"], family)
    layers = layer_rows(numbers, stages)
    layer_table = format_layer_table(layers, design_levels, design["clock_mhz"], family, board.dsp_primitive)
    rows = resource_rows(used, board.resources)
    timing = read_timing(design_dir / "report" / "cosim.json")
    estimate = estimate_comparison(design, stages, timing)

    report_dir = design_dir / "report"
    per_stage = {"measured": measured_design(design), "estimate": estimate, "layers": layers, "lut_levels": design_levels,
                 "lut_levels_that_fit": levels_that_fit(design["clock_mhz"], family)}
    files = [write_resources(report_dir, used, rows, timing, per_stage)]
    title = f"{design['top']} on {board.name}: yosys synth_xilinx -family {family}"
    markdown = report_dir / "resources.md"
    paragraphs = [f"# {title}", f"Measured: {measured_design(design)}.", format_table(rows, board.dsp_primitive),
                  timing_text(timing), *([estimate] if estimate else []), f"## Per stage\n\n{layer_table}"]
    markdown.write_text("\n\n".join(paragraphs) + "\n")
    files.append(markdown)
    plot = plot_resources(rows, f"{title}\n{timing_text(timing)}", report_dir / "resources.png")
    if plot is not None:
        files.append(plot)
    return DesignReport(design["top"], board.name, board.dsp_primitive, used, rows, timing, files,
                        measured_design(design), layers, layer_table, estimate)


def read_timing(path: Path) -> dict | None:
    """The co-simulated timing `fxhls cosim` wrote to `path`, None when there is none yet;
    a one-line ValueError when the file is not what it writes."""
    if not path.is_file():
        return None
    try:
        timing = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        timing = None
    numbers = ("latency_cycles", "interval_cycles", "fps", "clock_mhz")
    if not isinstance(timing, dict) or not all(isinstance(timing.get(key), (int, float)) for key in numbers):
        raise ValueError(f"{path} is not the timing `fxhls cosim` writes ({', '.join(numbers)}); "
                         f"run fxhls cosim again or delete it")
    return timing


def timing_text(timing: dict | None) -> str:
    """One line on the co-simulated timing, or how to get it."""
    if timing is None:
        return "No co-simulation yet: `fxhls cosim DIR --input X.npy --output Y.npy` measures latency and throughput."
    return (f"Co-simulation: latency {timing['latency_cycles']} cycles, initiation interval "
            f"{timing['interval_cycles']:g} cycles, {timing['fps']:,.0f} inferences/s at {timing['clock_mhz']:g} MHz.")
