"""Generated RTL tops of several models in one Verilator build (tests/rtl/top_bank.v.j2),
streamed together by the cocotb stream bench; outputs unpacked as the host does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from fxhls.deploy.interface import stream_interface
from fxhls.emulation import emulate
from fxhls.hls import vectors
from fxhls.ir import Graph
from fxhls.rtl.folding import RtlParallelism
from fxhls.rtl.writer import RtlDesign, write_rtl
from fxhls.sim.cosim import simulate_streams, stream_timing
from fxhls.sim.verilator import build

BANK_TEMPLATE = Path(__file__).parent / "rtl" / "top_bank.v.j2"


@dataclass
class TopCase:
    """A model's hardware graph, its design (design.json) and RTL, and its inputs (cast)."""

    name: str
    graph: Graph
    design: dict
    rtl: RtlDesign
    x: np.ndarray


def write_case(name: str, graph: Graph, x, folder: Path, parallelism: RtlParallelism | None = None) -> TopCase:
    design = stream_interface(graph, name, "ultra96v2", 250)
    rtl = write_rtl(graph, design, folder / name, parallelism)
    return TopCase(name, graph, design, rtl, vectors.cast_inputs(design, x))


def build_bank(cases: list[TopCase], folder: Path, name: str = "top_bank") -> Path:
    """One Verilator build of all the cases' tops (library files shared by name)."""
    sources = {}
    for case in cases:
        for source in case.rtl.sources:
            sources.setdefault(source.name, source)
    template = jinja2.Template(BANK_TEMPLATE.read_text(), trim_blocks=True, lstrip_blocks=True,
                               undefined=jinja2.StrictUndefined)
    bank = folder / f"{name}.v"
    bank.write_text(template.render(name=name, tops=[case.rtl.top for case in cases]))
    return build([*sources.values(), bank], name)


def stream_bank(build_dir: Path, cases: list[TopCase], pause: float, seed: int = 0, name: str = "top_bank"):
    """Every case's inputs through the bank at once; returns {case name: (outputs as values,
    TLAST flags, Timing)}."""
    words = {case.name: vectors.to_words(case.design["input"], case.x) for case in cases}
    run = simulate_streams(build_dir, name, {f"{case.rtl.top}_in": words[case.name].reshape(-1).tolist() for case in cases},
                           {f"{case.rtl.top}_out": len(case.x) * case.design["output"]["words"] for case in cases},
                           pause=pause, seed=seed, last=True, clock="ap_clk", reset="ap_rst_n")
    results = {}
    for case in cases:
        out = np.array(run.outputs[f"{case.rtl.top}_out"], dtype=np.uint64).reshape(len(case.x), -1)
        timing = stream_timing(run.input_cycles[f"{case.rtl.top}_in"], run.output_cycles[f"{case.rtl.top}_out"],
                               len(case.x))
        results[case.name] = (vectors.from_words(case.design["output"], out), run.output_last[f"{case.rtl.top}_out"],
                              timing)
    return results


def bank_mismatches(build_dir: Path, cases: list[TopCase], pause: float, seed: int = 0,
                    name: str = "top_bank") -> dict[str, int]:
    """Every case streamed through the bank under back-pressure `pause`: {case name: output
    values that differ from the emulator}; a TLAST anywhere but on the last word fails."""
    results = stream_bank(build_dir, cases, pause=pause, seed=seed, name=name)
    mismatches = {}
    for case in cases:
        y, last, _ = results[case.name]
        mismatches[case.name] = int((y != emulate(case.graph, case.x)).sum())
        assert last == [0] * (len(last) - 1) + [1], f"{case.name}: TLAST on words {np.flatnonzero(last)}"
    return mismatches
