"""`fxhls.rtl.netlist`: LUT levels of a mapped netlist and the instance a flattened cell
belongs to, on hand-written yosys JSON cells (no yosys run)."""

from __future__ import annotations

import pytest

from fxhls.rtl.netlist import TOP_CELLS, instance_of, lut_levels


def _cell(kind: str, inputs: list[int], outputs: list[int]) -> dict:
    ports = {f"I{i}": [bit] for i, bit in enumerate(inputs)} | {f"O{i}": [bit] for i, bit in enumerate(outputs)}
    return {"type": kind, "connections": ports,
            "port_directions": {port: "input" if port.startswith("I") else "output" for port in ports}}


def test_luts_count_carries_do_not_and_registers_end_a_path():
    cells = {"a": _cell("LUT6", [1], [2]), "carry": _cell("CARRY8", [2], [3]), "b": _cell("LUT2", [3, 9], [4]),
             "reg": _cell("FDRE", [4], [5]), "c": _cell("LUT3", [5], [6]), "d": _cell("LUT1", [6], [7])}
    assert lut_levels(cells) == 2  # a -> carry -> b; the register starts c -> d anew
    cells["e"] = _cell("LUT4", [4], [8])
    assert lut_levels(cells) == 3
    assert lut_levels({}) == 0


def test_a_combinational_loop_is_named():
    cells = {"a": _cell("LUT2", [1, 3], [2]), "b": _cell("LUT2", [2], [3])}
    with pytest.raises(ValueError, match="a combinational loop through cells"):
        lut_levels(cells)


def test_a_flattened_cell_belongs_to_the_instance_its_name_begins_with():
    instances = {"stage_1", "pack"}
    assert instance_of("$flatten\\stage_1.$abc$12$lut", instances) == "stage_1"
    assert instance_of("stage_1.acc_reg", instances) == "stage_1"
    assert instance_of("$flatten\\pack.\\inner.$abc$3", instances) == "pack"
    assert instance_of("$auto$clkbufmap.cc:261:execute$5", instances) == TOP_CELLS
    assert instance_of("stage_1", instances) == TOP_CELLS
