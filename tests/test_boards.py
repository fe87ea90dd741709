"""The board files and their loader: facts as published, and one-line errors for malformed files."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhls.board import Board, boards_dir, known_boards, load_board


def test_the_known_boards():
    assert {"ultra96v2", "pynq-z2", "zcu104"} <= set(known_boards())


@pytest.mark.parametrize(
    "name, part, board_part, ps_ip, pl_clock, hp_port, dsp_primitive, resources",
    [
        ("ultra96v2", "xczu3eg-sbva484-1-i", "avnet.com:ultra96v2:part0:1.2", "zynq_ultra_ps_e", "pl_clk0",
         "S_AXI_HP0_FPD", "DSP48E2", {"lut": 70560, "ff": 141120, "dsp": 360, "bram36": 216}),
        ("pynq-z2", "xc7z020clg400-1", "tul.com.tw:pynq-z2:part0:1.0", "processing_system7", "FCLK_CLK0",
         "S_AXI_HP0", "DSP48E1", {"lut": 53200, "ff": 106400, "dsp": 220, "bram36": 140}),
        ("zcu104", "xczu7ev-ffvc1156-2-e", "xilinx.com:zcu104:part0:1.1", "zynq_ultra_ps_e", "pl_clk0",
         "S_AXI_HP0_FPD", "DSP48E2", {"lut": 230400, "ff": 460800, "dsp": 1728, "bram36": 312}),
    ],
)
def test_board_facts(name, part, board_part, ps_ip, pl_clock, hp_port, dsp_primitive, resources):
    board = load_board(name)
    assert (board.name, board.part, board.board_part, board.ps_ip) == (name, part, board_part, ps_ip)
    assert (board.pl_clock, board.hp_port, board.dsp_primitive) == (pl_clock, hp_port, dsp_primitive)
    assert board.resources == resources
    assert board.ports_off == (("PSU__USE__M_AXI_GP1",) if board.family == "zynq_ultrascale_plus" else ())


def test_an_unknown_board_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown board 'ultra69'; known boards: pynq-z2, ultra96v2, zcu104"):
        load_board("ultra69")


def ultra96_fields() -> dict:
    return yaml.safe_load((boards_dir() / "ultra96v2.yaml").read_text())


def write_board(tmp_path, data) -> str:
    path = tmp_path / "ultra96v2.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return str(path)


def test_a_board_file_given_by_path_loads(tmp_path):
    assert load_board(write_board(tmp_path, ultra96_fields())) == load_board("ultra96v2")


def test_a_board_file_may_name_its_own_board(tmp_path):
    path = tmp_path / "lab.yml"
    path.write_text(yaml.safe_dump({**ultra96_fields(), "name": "my-ultra96"}))
    assert load_board(str(path)).name == "my-ultra96"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("part", "", "field 'part' must be a Vivado part name"),
        ("part", 7, "field 'part' must be a Vivado part name"),
        ("part", "xczu3eg [exec touch pwned]", "field 'part' must be a Vivado part name"),
        ("part", "xczu3eg\nputs hi", "field 'part' must be a Vivado part name"),
        ("name", "my board", "field 'name' must be letters, digits"),
        ("name", "-x", "field 'name' must be letters, digits"),
        ("pl_clock", "pl_clk0; exec rm", "field 'pl_clock' must be a Vivado port or CONFIG property name"),
        ("pl_clock_property", "A$B", "field 'pl_clock_property' must be a Vivado port or CONFIG property name"),
        ("board_part", "a:b:c:d [exec x]", "field 'board_part' must be vendor:board:component:version"),
        ("family", "versal", "field 'family' must be one of zynq7000, zynq_ultrascale_plus"),
        ("ps_ip", "processing_system7", "field 'ps_ip' must be 'zynq_ultra_ps_e' for family zynq_ultrascale_plus"),
        ("dsp_primitive", "DSP48E1", "field 'dsp_primitive' must be 'DSP48E2'"),
        ("board_part", "avnet.com:ultra96v2", "field 'board_part' must be vendor:board:component:version"),
        ("default_clock_mhz", 0, "field 'default_clock_mhz' must be a number of MHz"),
        ("default_clock_mhz", "250", "field 'default_clock_mhz' must be a number of MHz"),
        ("hp_port_width", 96, "field 'hp_port_width' must be one of 32, 64, 128"),
        ("resources", {"lut": 1, "ff": 1, "dsp": 1}, "field 'resources' must be a mapping of lut, ff, dsp, bram36"),
        ("resources", {"lut": 1, "ff": 1, "dsp": -1, "bram36": 1}, "field 'resources' must be a mapping"),
        ("ports_off", "PSU__USE__M_AXI_GP1", "field 'ports_off' must be a list of PS CONFIG property names"),
        ("ports_off", [""], "field 'ports_off' must be a list of PS CONFIG property names"),
        ("ports_off", ["A [exec x]"], "field 'ports_off' must be a list of PS CONFIG property names"),
        ("color", "red", "unknown field 'color'; the fields are name, family"),
    ],
)
def test_a_malformed_board_file_names_the_file_and_the_field(tmp_path, field, value, message):
    data = ultra96_fields()
    data[field] = value
    path = write_board(tmp_path, data)
    with pytest.raises(ValueError) as err:
        load_board(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_missing_field(tmp_path):
    data = ultra96_fields()
    del data["hp_port"]
    path = write_board(tmp_path, data)
    with pytest.raises(ValueError, match=f"^{path}: missing field 'hp_port'$"):
        load_board(path)


@pytest.mark.parametrize("text, message", [("- a list\n", "must be a mapping of fields"), ("a: [b\n", "cannot read board file")])
def test_a_file_that_is_not_a_board(tmp_path, text, message):
    path = write_board(tmp_path, text)
    with pytest.raises(ValueError, match=message) as err:
        load_board(path)
    assert "\n" not in str(err.value)


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from([f.name for f in fields(Board)]),
       value=st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.none(), st.lists(st.text(max_size=5)),
                       st.dictionaries(st.text(max_size=5), st.integers())))
def test_any_field_value_loads_as_inert_text_or_is_refused_in_one_line(tmp_path_factory, field, value):
    data = ultra96_fields()
    data[field] = value
    path = write_board(tmp_path_factory.mktemp("board"), data)
    try:
        board = load_board(path)
    except ValueError as err:
        assert str(err).startswith(f"{path}: ") and "\n" not in str(err)
        return
    for name in ("name", "part", "board_part", "pl_clock", "hp_port", "control_port", "pl_clock_property",
                 "hp_port_enable", "hp_port_width_property", "control_port_enable", *board.ports_off):
        text = getattr(board, name, name)
        assert re.fullmatch(r"[A-Za-z0-9_.:-]+", text), (name, text)
