"""The parts of a generated RTL top: stream nets and module instances (templates/rtl/top.v.j2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .verilog import literal


@dataclass(frozen=True)
class Stream:
    """A valid/ready stream net of the top (`<name>_tdata/_tvalid/_tready`): beats of
    `lanes` values of `bits` bits; `binary` values are one bit, 1 meaning +1."""

    name: str
    lanes: int
    bits: int
    binary: bool = False

    @property
    def width(self) -> int:
        return self.lanes * self.bits


@dataclass
class Instance:
    """A module instance of the top: `streams` joins its stream ports (`s_axis`,
    `m_axis`, `m0_axis`, ...) to stream nets by name."""

    module: str
    name: str
    parameters: dict = field(default_factory=dict)
    streams: dict[str, str] = field(default_factory=dict)
    comment: str = ""

    @property
    def parameter_literals(self) -> dict[str, str]:
        return {key: literal(value) for key, value in self.parameters.items()}
