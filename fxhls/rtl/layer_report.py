"""The per-layer part of `fxhls report`: each stage of the top with its synthesized LUT,
FF, DSP and BRAM (yosys without flattening, `fxhls.rtl.netlist`) and its longest path in
LUT levels, next to its types, folding and clocks from DIR/rtl/stages.json.

A stage's numbers are those of its instance and of its output FIFO (`<stage>_out`);
every other instance of the top (the stream converters, forks, regroups, branch FIFOs)
gets a row of its own. Without flattening yosys cannot optimise across instances (constant or unread ports), so the
rows sum to more than the flattened synthesis of the whole design (1.6 times its LUTs for a
small two-layer model).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict
from pathlib import Path

from fxhls.cache import cached_file
from fxhls.templating import render

from .netlist import TOP_CELLS, InstanceNumbers, instance_numbers, lut_levels
from .report import Resources, synthesis_script
from .yosys import run_yosys

# An estimate of one LUT level and its routing, in ns, per yosys family: UltraScale+
# (-1 speed grade) and 7 series. Not a timing analysis: Vivado's report_timing is.
LEVEL_NS = {"xcup": 0.5, "xc7": 0.8}

_RESOURCE_KEYS = ("lut", "ff", "dsp", "bram36")


def synthesize_instances(sources: list[Path], top: str, family: str = "xcup") -> tuple[dict[str, InstanceNumbers], int]:
    """(numbers of each instance of `top`, the design's longest path in LUT levels) from
    yosys `synth_xilinx` without -flatten; cached as `synthesize` is."""
    script, folder = synthesis_script(sources, top, family, flatten=False)

    def run(path: Path) -> None:
        top_json, flat_json = path.parent / "top.json", path.parent / "flat.json"
        run_yosys(f"{script}\njson -o {top_json} {top}\nflatten\njson -o {flat_json} {top}",
                  f"yosys synthesis of {top} per instance")
        numbers = instance_numbers(top_json, flat_json, top)
        design_levels = lut_levels(json.loads(flat_json.read_text())["modules"][top]["cells"])
        path.write_text(json.dumps({"instances": {name: asdict(n) for name, n in numbers.items()},
                                    "lut_levels": design_levels}, indent=1) + "\n")

    saved = json.loads(cached_file(folder, "instances.json", run).read_text())
    return {name: InstanceNumbers(**n) for name, n in saved["instances"].items()}, saved["lut_levels"]


def levels_that_fit(clock_mhz: float, family: str) -> int:
    """LUT levels that fit one clock period at LEVEL_NS per level (an estimate)."""
    return math.floor(1000.0 / clock_mhz / LEVEL_NS[family])


def layer_rows(numbers: dict[str, InstanceNumbers], stages: list[dict]) -> list[dict]:
    """One row per stage (its `stages.json` row with resources and LUT levels), then one per
    other instance that uses any resource (op: its library module)."""
    claimed, rows = set(), []
    for stage in stages:
        names = [name for name in (stage["stage"], f"{stage['stage']}_out") if name in numbers]
        claimed.update(names)
        rows.append({**stage, **_measured([numbers[name] for name in names])})
    for name, number in numbers.items():
        measured = _measured([number])
        if name not in claimed and any(measured[key] for key in _RESOURCE_KEYS):
            module = re.sub(r"^\$paramod\$[0-9a-f]+\\", "", number.module)
            rows.append({"stage": name, "op": "top glue" if name == TOP_CELLS else module, **measured})
    return rows


def _measured(numbers: list[InstanceNumbers]) -> dict:
    cells: dict[str, int] = {}
    for number in numbers:
        for cell, count in number.cells.items():
            cells[cell] = cells.get(cell, 0) + count
    used = Resources.from_cells(cells)
    return {**{key: getattr(used, key) for key in _RESOURCE_KEYS},
            "lut_levels": max((number.lut_levels for number in numbers), default=0)}


def format_layer_table(rows: list[dict], design_levels: int, clock_mhz: float, family: str, dsp_name: str) -> str:
    """The rows as a Markdown table with a note on the LUT levels against the clock."""
    return render("rtl/layer_report.md.j2", rows=rows, design_levels=design_levels, clock_mhz=clock_mhz,
                  period_ns=round(1000.0 / clock_mhz, 2), level_ns=LEVEL_NS[family],
                  fit=levels_that_fit(clock_mhz, family), family=family, dsp_name=dsp_name,
                  sums={key: sum(row[key] for row in rows) for key in _RESOURCE_KEYS}).strip()
