"""Shared by the stream-module RTL tests: many module instances in one Verilator build
(tests/rtl/bank.v.j2), and the lane codes of beats.

Expected outputs in the tests come from `fxhls.fixed` and the IR ops' `execute`,
never from the RTL under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np

from fxhls.fixed import FixedType, quantize
from fxhls.ir import Node
from fxhls.ir.ops import OPS
from fxhls.rtl.library import library_sources
from fxhls.rtl.verilog import literal, packed_codes
from fxhls.sim.verilator import build

BANK_TEMPLATE = Path(__file__).parent / "rtl" / "bank.v.j2"


@dataclass
class Instance:
    """A module instance of the bank. `streams`: its stream ports (e.g. "s_axis") and
    their tdata widths, exposed as bank ports `<name>_<port>` unless `links` joins the
    port to a wire of the bank (`{port: wire}`). Ports named s* are inputs, and those in
    `inputs`; the ports in `with_last` have a TLAST."""

    name: str
    module: str
    parameters: dict
    streams: dict[str, int]
    links: dict[str, str] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    with_last: tuple[str, ...] = ()

    def prefix(self, port: str) -> str:
        return f"{self.name}_{port}"

    def is_input(self, port: str) -> bool:
        return port.startswith("s") or port in self.inputs


def build_bank(work: Path, name: str, instances: list[Instance], modules: list[str], wires: dict[str, int] | None = None) -> Path:
    """Write the bank's Verilog into `work` and build it with the library `modules`; returns the build folder."""
    source = work / f"{name}.v"
    source.write_text(bank_verilog(name, instances, wires))
    return build([*library_sources(*modules), source], name, optimize=False)


def bank_verilog(name: str, instances: list[Instance], wires: dict[str, int] | None = None) -> str:
    """The Verilog of a bank module `name` holding `instances` (joined by `wires`: {name: tdata bits})."""
    ports = [
        {"name": inst.prefix(port), "bits": bits, "input": inst.is_input(port), "last": port in inst.with_last}
        for inst in instances for port, bits in inst.streams.items() if port not in inst.links
    ]
    rendered = [
        {
            "name": inst.name,
            "module": inst.module,
            "parameters": {key: literal(value) for key, value in inst.parameters.items()},
            "nets": {port: inst.links.get(port, inst.prefix(port)) for port in inst.streams},
            "last": inst.with_last,
        }
        for inst in instances
    ]
    template = jinja2.Template(BANK_TEMPLATE.read_text(), trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return template.render(
        name=name, ports=ports, instances=rendered,
        wires=[{"name": wire, "bits": bits} for wire, bits in (wires or {}).items()],
    )


def codes(values: np.ndarray, t: FixedType) -> list[int]:
    """The codes of values of type `t` (values * 2**frac_bits), flattened."""
    scaled = np.asarray(values, dtype=np.float64) * 2.0**t.frac_bits
    assert (scaled == np.round(scaled)).all(), f"values are not of type {t}"
    return [int(c) for c in np.round(scaled).astype(np.int64).flatten()]


def beats(values: np.ndarray, t: FixedType, lanes: int) -> list[int]:
    """Values of type `t` in order, `lanes` per beat, as beat integers (lane i at [i*W +: W])."""
    flat = codes(values, t)
    assert len(flat) % lanes == 0
    return [packed_codes(flat[i:i + lanes], t.width) for i in range(0, len(flat), lanes)]


def beat_values(beat_list: list[int], t: FixedType, lanes: int) -> np.ndarray:
    """The inverse of `beats`: the values (float64, flattened) of beats of `lanes` codes of type `t`."""
    mask, flat = (1 << t.width) - 1, []
    for beat in beat_list:
        for i in range(lanes):
            code = (beat >> (i * t.width)) & mask
            if t.signed and code >= 1 << (t.width - 1):
                code -= 1 << t.width
            flat.append(code)
    return np.array(flat, dtype=np.float64) * t.lsb


def output_mismatches(cases: list[dict], run) -> dict[str, int]:
    """For each output port of each bank case ({"instance", "outputs": {port: (expected, type,
    lanes)}}), the values of the run's beats that differ from the expected ones."""
    mismatches = {}
    for case in cases:
        for port, (expected, t, lanes) in case["outputs"].items():
            prefix = case["instance"].prefix(port)
            got = beat_values(run.outputs[prefix], t, lanes)
            assert got.shape == expected.flatten().shape, prefix
            mismatches[prefix] = int((got != expected.flatten()).sum())
    return mismatches


def execute_op(op: str, values: list[np.ndarray], out_type: FixedType | None = None, **attrs) -> np.ndarray:
    """The IR op's exact execution on `values`, then its out_type cast (as fxhls.ir.execute does)."""
    node = Node(op, op.lower(), [f"in{i}" for i in range(len(values))], ["out"], dict(attrs))
    (y,) = OPS[op].execute(node, values)
    return quantize(y, out_type) if out_type is not None else y
