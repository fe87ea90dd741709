"""Per-instance numbers of a synthesized top: yosys `synth_xilinx` without flattening
(abc maps each module alone, so every cell stays inside the instance it came from), then
`flatten` of the mapped netlist, whose cell names keep the top's instance as their first
component. From that netlist: each instance of the top, its module, its cells, and its
longest combinational path in LUT levels (a timing proxy).

A path starts and ends at a flip-flop, a block or LUT RAM, a shift register, a DSP slice or
a port; LUTs count one level each, carry chains and wide multiplexers none (they are fast
dedicated wires). An unregistered DSP slice or a LUT RAM's read also takes time, which
the count leaves out: it is a lower bound of the logic on the path, not a timing analysis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

# Cell types that end a combinational path (prefixes of Xilinx primitive names).
_PATH_ENDS = ("FD", "LD", "RAM", "SRL", "DSP48", "FIFO", "BUFG")

# The top's own cells (clock buffers, glue) are listed under this name.
TOP_CELLS = "(top)"


@dataclass(frozen=True)
class InstanceNumbers:
    """One instance of the top: its module (yosys's name, `$paramod...` for a library
    module with parameters), its cells by type and its longest path in LUT levels."""

    module: str
    cells: dict
    lut_levels: int


def instance_of(cell_name: str, instances) -> str:
    """The top's instance a flattened cell belongs to (`$flatten\\inst.x` or `inst.x`), or
    TOP_CELLS for a cell of the top itself."""
    first = cell_name.removeprefix("$flatten").removeprefix("\\").split(".", 1)[0]
    return first if first in instances and "." in cell_name else TOP_CELLS


def lut_levels(cells: dict) -> int:
    """The most LUTs on one combinational path among `cells` (yosys JSON cells: type,
    port_directions, connections); a path through cells not in `cells` starts anew."""
    driver = {}
    for name, cell in cells.items():
        if not cell["type"].startswith(_PATH_ENDS):
            for port, bits in cell["connections"].items():
                if cell.get("port_directions", {}).get(port) == "output":
                    driver.update((bit, name) for bit in bits if isinstance(bit, int))
    inputs = {name: {driver[bit] for port, bits in cell["connections"].items()
                     if cell.get("port_directions", {}).get(port) == "input" for bit in bits if bit in driver}
              for name, cell in cells.items() if not cell["type"].startswith(_PATH_ENDS)}
    depth: dict[str, int] = {}
    try:
        for name in TopologicalSorter(inputs).static_order():
            before = max((depth[source] for source in inputs[name]), default=0)
            depth[name] = before + cells[name]["type"].startswith("LUT")
    except CycleError as loop:
        raise ValueError(f"a combinational loop through cells {', '.join(loop.args[1][:4])}") from None
    return max(depth.values(), default=0)


def instance_numbers(top_json: Path, flat_json: Path, top: str) -> dict[str, InstanceNumbers]:
    """From yosys's JSON of the mapped top before (`top_json`) and after (`flat_json`)
    flattening: the numbers of each instance of the top, and of TOP_CELLS."""
    cells_of_top = json.loads(top_json.read_text())["modules"][top]["cells"]
    modules = {name: cell["type"] for name, cell in cells_of_top.items() if not cell["hide_name"]}
    grouped: dict[str, dict] = {name: {} for name in [*modules, TOP_CELLS]}
    for name, cell in json.loads(flat_json.read_text())["modules"][top]["cells"].items():
        grouped[instance_of(name, modules)][name] = cell
    numbers = {}
    for name, cells in grouped.items():
        counts: dict[str, int] = {}
        for cell in cells.values():
            counts[cell["type"]] = counts.get(cell["type"], 0) + 1
        numbers[name] = InstanceNumbers(modules.get(name, top), dict(sorted(counts.items())), lut_levels(cells))
    return numbers
