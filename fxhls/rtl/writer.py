"""The generated RTL top of a whole model: `write_rtl(graph, design, out_dir, parallelism)`.

It writes DIR/rtl/: `<top>.v` (templates/rtl/top.v.j2), one file per compute layer
(its ROMs and module, `fxhls.rtl.layers`), the library modules they instantiate
(templates/rtl/*.v) and stages.json (`fxhls.rtl.stage_rows`, for `fxhls report`), all Verilog that yosys and Verilator read as they are. The top:

    input_words (AXI-Stream, 64-bit words, TLAST) -> fxhls_unpack -> one stage per node
    of the hardware graph (fxhls.rtl.top_stages) -> fxhls_pack -> output_words

with ports named as Vitis HLS names those of an `ap_ctrl_none` AXI-Stream IP (ap_clk,
ap_rst_n, input_words_TDATA/TKEEP/TSTRB/TLAST/TVALID/TREADY, output_words_*), so the
deploy Tcl and the cocotb bench take the HLS export or this top alike. The input cast
gets no stage (the host sends its codes); Flatten, Reshape and Transpose none (no data
moves in stream order); a Threshold that a binary layer computes none. Parallelism:
`fxhls.rtl.folding`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fxhls.ir.graph import Graph
from fxhls.ir.passes import check_hardware_graph
from fxhls.templating import render

from .budget import HEADROOM, RESOURCES, Budget, FoldEstimate, check_weight_memory
from .folding import RtlParallelism, check_knob, layer_knob, stage_lanes, target_cycles
from .layers import ComputeLayer, compute_sources
from .library import library_sources
from .sources import write_refusal
from .stage_rows import write_stage_rows
from .top_stages import StageBuilder

# Samples whose TLAST waits for their output (samples in flight in the pipeline).
LAST_FIFO_DEPTH = 64


@dataclass(frozen=True)
class RtlDesign:
    """What `write_rtl` wrote: the top module's name, its sources (DIR/rtl/*.v, the top
    last), the compute layers, and the estimated clocks per sample of each stage."""

    top: str
    sources: list[Path]
    layers: list[ComputeLayer]
    stage_cycles: dict[str, int]

    @property
    def cycles_per_sample(self) -> int:
        """The pipeline's clocks per sample in steady state: its slowest stage's."""
        return max(self.stage_cycles.values(), default=1)


def write_rtl(graph: Graph, design: dict, out_dir, parallelism: RtlParallelism | None = None) -> RtlDesign:
    """Write DIR/rtl/ for hardware graph `graph` (`lower_for_hardware`) and `design`
    (design.json's content, `fxhls.deploy.stream_interface`) into `out_dir`."""
    check_hardware_graph(graph)
    top = design["top"]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", top):
        raise ValueError(f"the top {top!r} is no Verilog module name (letters, digits, _)")
    options = parallelism or RtlParallelism()
    compute = [node for node in graph.nodes if node.op in ("Gemm", "Conv")]
    by_name = {node.name: node for node in compute}
    for name in {**options.layers, **options.reuse}:
        if name not in by_name:
            raise ValueError(f"no Gemm or Conv {name!r} to fold; the compute layers are "
                             f"{', '.join(by_name) or 'none'}")
        check_knob(graph, by_name[name], layer_knob(options, name))
    from fxhls.board import design_board

    board = design_board(design)
    check_weight_memory(graph, compute, board.name, board.resources)
    converters = max(design["input"]["words"], design["output"]["words"])
    levels = clock_levels(design)
    target = target_cycles(graph, compute, design["clock_mhz"], options, converters)
    target = _within_budget(graph, design, compute, target, options, levels)
    top_text, layers, stage_cycles, modules, rows = _top(graph, design, top, target, options, levels)
    slowest = max(stage_cycles, key=stage_cycles.get)
    if options.target_fps is not None and stage_cycles[slowest] > target:
        raise ValueError(f"a target of {options.target_fps:,.0f} FPS ({target} clocks per sample) is out of reach for "
                         f"the RTL: the best is {design['clock_mhz'] * 1e6 / stage_cycles[slowest]:,.0f} FPS, where "
                         f"stage {slowest} takes {stage_cycles[slowest]} clocks per sample")

    rtl = Path(out_dir) / "rtl"
    rtl.mkdir(parents=True, exist_ok=True)
    library = library_sources(*modules, "fxhls_unpack", "fxhls_pack", "fxhls_fifo")
    if layers:
        library = sorted(set(library) | set(compute_sources()))
    files = {path.name: path.read_text() for path in library}
    files |= {f"{layer.name}.v": layer.render() for layer in layers}
    files[f"{top}.v"] = top_text
    sources = []
    for name, text in files.items():
        (rtl / name).write_text(text)
        sources.append(rtl / name)
    write_stage_rows(rtl, top, rows)
    return RtlDesign(top, sources, layers, stage_cycles)


def write_rtl_unless_refused(graph: Graph, design: dict, out_dir,
                             parallelism: RtlParallelism | None = None) -> str | None:
    """`write_rtl`; where the RTL backend refuses the model, DIR/rtl/ holds the reason
    instead (`fxhls.rtl.sources`), which is returned."""
    try:
        write_rtl(graph, design, out_dir, parallelism)
    except ValueError as refusal:
        write_refusal(out_dir, str(refusal))
        return str(refusal)
    return None


def _within_budget(graph: Graph, design: dict, compute: list, target: int, options: RtlParallelism,
                   levels: int) -> int:
    """`target` (clocks per sample) where the compute layers folded for it fit the board's
    budget (`fxhls.rtl.budget`); else without a target FPS the fastest interval within it
    (or, where none is, the least parallel fold), and with one a one-line refusal naming
    the best FPS within it and the resource that runs out. Where the user set every compute
    layer's fold or reuse factor, they are kept as they are."""
    from fxhls.board import design_board

    if all(node.name in options.layers or node.name in options.reuse for node in compute):
        return target
    board = design_board(design)
    budget = Budget.of_board(board.resources)
    estimate = FoldEstimate(graph, compute, options, levels)
    used = estimate.at(target)
    resource = budget.over(used)
    if resource is None:
        return target
    best = estimate.fastest_within(budget, target)
    if options.target_fps is None:
        return best if best is not None else estimate.intervals(target)[-1]
    clock_hz = design["clock_mhz"] * 1e6
    reach = (f"the best within it is {clock_hz / best:,.0f} FPS ({best} clocks per sample)" if best is not None
             else "even the least parallel fold exceeds it")
    raise ValueError(f"a target of {options.target_fps:,.0f} FPS ({target} clocks per sample) needs an estimated "
                     f"{used[resource]:,} {RESOURCES[resource]} in the RTL's compute layers, over the budget of "
                     f"{getattr(budget, resource):,} ({1 - HEADROOM:.0%} of the {board.name}'s "
                     f"{board.resources[resource]:,}): {reach}")


def clock_levels(design: dict) -> int:
    """The LUT levels that fit a clock of the design's board at its clock
    (`fxhls.rtl.layer_report.levels_that_fit`), which the compute layers' pipelines keep within."""
    from fxhls.board import design_board

    from .layer_report import levels_that_fit
    from .report import YOSYS_FAMILIES

    return levels_that_fit(design["clock_mhz"], YOSYS_FAMILIES[design_board(design).family])


def _top(graph: Graph, design: dict, top: str, target: int, options: RtlParallelism, lut_levels: int | None = None):
    """The top's Verilog, its compute layers, stage clocks, the library modules it uses and
    the stages' rows (`fxhls.rtl.stage_rows`)."""
    builder = StageBuilder(graph, top, target, options, lut_levels)
    spec_in, spec_out = design["input"], design["output"]
    cast = next(node for node in graph.nodes if node.inputs[0] == graph.inputs[0])
    shape = spec_in["shape"]
    lanes = stage_lanes(shape[0], spec_in["values"], target, shape[0])
    words = builder.new_stream("words_in", lanes, spec_in["width"])
    builder.publish(cast.outputs[0], words)
    for node in graph.nodes:
        builder.add_node(node)
    output = graph.outputs[0]
    if graph.consumers(output):
        raise ValueError(f"the output {output!r} is also read by node {graph.consumers(output)[0].name!r}; the RTL "
                         f"top streams the output to the host only")
    if not builder.binary(output) and spec_out["width"] != graph.tensor(output).type.width:
        raise ValueError(f"the output {output!r} is {graph.tensor(output).type}, design.json says {spec_out['type']}")
    last = builder.read(output, None, builder.incoming(output, None).lanes, codes=True)
    stage_cycles = dict(builder.cycles)
    stage_cycles["unpack"] = spec_in["words"]
    stage_cycles["pack"] = spec_out["words"]
    text = render("rtl/top.v.j2", top=top, description=f"the model {design['name']}", board=design["board"],
                  clock_mhz=design["clock_mhz"], cycles=max(stage_cycles.values()),
                  streams=builder.streams, instances=builder.instances, last_depth=LAST_FIFO_DEPTH,
                  input={**spec_in, "lanes": lanes, "stream": words.name, "width": spec_in["width"]},
                  output={**spec_out, "lanes": last.lanes, "stream": last.name, "signed": int(spec_out["signed"])})
    modules = sorted({instance.module for instance in builder.instances
                      if instance.module.startswith("fxhls_")})
    return text, builder.layers, stage_cycles, modules, builder.rows
