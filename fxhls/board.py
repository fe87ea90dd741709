"""Boards: one YAML file per board in `boards/` (part, PS, ports, resources), read and checked here."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from importlib import resources
from pathlib import Path

import yaml

# The PS IP of each device family, and the DSP slice its fabric has.
FAMILIES = {
    "zynq7000": ("processing_system7", "DSP48E1"),
    "zynq_ultrascale_plus": ("zynq_ultra_ps_e", "DSP48E2"),
}
HP_PORT_WIDTHS = (32, 64, 128)
# What each text field may hold: Vivado's own spellings of names, parts and properties.
# (The templates escape them too; a board file is still refused early with a clear line.)
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
FIELD_PATTERNS = {
    "name": (NAME_PATTERN, "letters, digits, _ . - (starting with a letter or digit)"),
    "part": (NAME_PATTERN, "a Vivado part name such as xczu3eg-sbva484-1-i"),
    "board_part": (r"[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+){3}", "vendor:board:component:version (e.g. avnet.com:ultra96v2:part0:1.2)"),
}
PROPERTY_PATTERN = (r"[A-Za-z][A-Za-z0-9_]*", "a Vivado port or CONFIG property name (letters, digits, _)")
RESOURCES = ("lut", "ff", "dsp", "bram36")


@dataclass(frozen=True)
class Board:
    """A board fxhls deploys to: what the Vivado block design and the reports need.

    The `*_property` and `*_enable` fields name the PS IP's CONFIG properties the
    block design sets on top of the board preset: the PL clock's frequency, and the
    switches that enable the HP port (for the DMA) and the master port (for control);
    `ports_off` the switches of ports the preset enables and the design leaves unused
    (an unconnected port's clock fails validation).
    """

    name: str
    family: str
    part: str
    board_part: str
    ps_ip: str
    dsp_primitive: str
    pl_clock: str
    pl_clock_property: str
    default_clock_mhz: float
    hp_port: str
    hp_port_width: int
    hp_port_enable: str
    hp_port_width_property: str
    control_port: str
    control_port_enable: str
    ports_off: tuple
    resources: dict


def boards_dir() -> Path:
    """The folder of the board files (shipped as `fxhls/boards` package data)."""
    return Path(str(resources.files("fxhls") / "boards"))


def known_boards() -> list[str]:
    """The names of the boards in `boards/`, sorted."""
    return sorted(path.stem for path in boards_dir().glob("*.yaml"))


def load_board(name: str) -> Board:
    """The board called `name` (its file is boards/<name>.yaml), or the board file at path
    `name` (any name ending in .yaml or .yml, or holding a path separator)."""
    path = Path(name)
    if path.suffix not in (".yaml", ".yml") and len(path.parts) == 1:
        path = boards_dir() / f"{name}.yaml"
        if not path.is_file():
            raise ValueError(f"unknown board {name!r}; known boards: {', '.join(known_boards())}")
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"cannot read board file {path}: {' '.join(str(err).split())}") from None
    return board_from_dict(data, str(path))


def board_from_dict(data, source: str) -> Board:
    """A `Board` from the mapping `data` read from `source`, every field checked."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: a board file must be a mapping of fields, got {type(data).__name__}")
    names = [f.name for f in fields(Board)]
    unknown = sorted(set(data) - set(names), key=str)
    if unknown:
        raise ValueError(f"{source}: unknown field {unknown[0]!r}; the fields are {', '.join(names)}")
    missing = [name for name in names if name not in data]
    if missing:
        raise ValueError(f"{source}: missing field {missing[0]!r}")

    def fail(field: str, expected: str):
        raise ValueError(f"{source}: field {field!r} must be {expected}, got {data[field]!r}")

    for field in names:
        if field not in ("default_clock_mhz", "hp_port_width", "ports_off", "resources"):
            pattern, expected = FIELD_PATTERNS.get(field, PROPERTY_PATTERN)
            if not isinstance(data[field], str) or not re.fullmatch(pattern, data[field], flags=re.ASCII):
                fail(field, expected)
    if data["family"] not in FAMILIES:
        fail("family", f"one of {', '.join(FAMILIES)}")
    ps_ip, dsp_primitive = FAMILIES[data["family"]]
    if data["ps_ip"] != ps_ip:
        fail("ps_ip", f"{ps_ip!r} for family {data['family']}")
    if data["dsp_primitive"] != dsp_primitive:
        fail("dsp_primitive", f"{dsp_primitive!r} for family {data['family']}")
    clock = data["default_clock_mhz"]
    if isinstance(clock, bool) or not isinstance(clock, (int, float)) or not 0 < clock <= 1000:
        fail("default_clock_mhz", "a number of MHz in (0, 1000]")
    if data["hp_port_width"] not in HP_PORT_WIDTHS or isinstance(data["hp_port_width"], bool):
        fail("hp_port_width", f"one of {', '.join(map(str, HP_PORT_WIDTHS))}")
    ports_off = data["ports_off"]
    if not isinstance(ports_off, list) or not all(
        isinstance(p, str) and re.fullmatch(PROPERTY_PATTERN[0], p, flags=re.ASCII) for p in ports_off
    ):
        fail("ports_off", "a list of PS CONFIG property names (may be empty)")
    counts = data["resources"]
    if not isinstance(counts, dict) or set(counts) != set(RESOURCES) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in counts.values()
    ):
        fail("resources", f"a mapping of {', '.join(RESOURCES)} to positive integers")
    return Board(**{**data, "ports_off": tuple(ports_off), "resources": dict(counts)})


def board_fields(board: Board) -> dict:
    """The fields of `board` as plain data (what design.json keeps: `board_from_dict` reads it back)."""
    return {**asdict(board), "ports_off": list(board.ports_off)}


def design_board(design: dict) -> Board:
    """The board a design was built for: the fields design.json keeps under "board_fields",
    or, for a design written before it kept them, the built-in board of its name."""
    if "board_fields" in design:
        return board_from_dict(design["board_fields"], "design.json's board_fields")
    return load_board(design["board"])
