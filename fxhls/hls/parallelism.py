"""Parallelism: each layer's reuse factor, and the cost estimates the report shows.

A stage handles one sample per call. Element-wise stages, pools and the converters
take one beat (pixel) per clock with all its channels in parallel (a max or average
pool one pixel of its zero-padded image, as a Conv's window walk). Conv and Gemm
layers fold. A MAC layer with reuse r starts its compute every r clocks and shares each
multiplier r ways (hls4ml's reuse factor): a Conv takes r clocks per (padded) input
pixel, a Gemm its input beats plus r clocks per sample. A K-hot or binary layer folds as
FINN's MVU, on the RTL's folds (`fxhls.rtl.folding`): its reuse r is its clocks per input
vector (SF x NF at its SIMD and PE), so a Conv takes max(padded pixels, windows x r)
clocks, a Gemm max(input beats, r); for a pipeline interval it takes the fold the RTL
takes for that target (`fxhls.rtl.layers.folded_layer`), so both backends' layers take the same clocks
wherever the folds, not the input walk, set the pace.

The automatic choice (`choose_reuse`) balances the dataflow pipeline within the
board's DSP slices: the pipeline's interval is its slowest stage's, so it finds the
smallest interval T for which every folding layer, given the largest reuse that
still finishes within T, fits the DSP budget (the board's DSP count unless given);
layers faster than T fold for free. With a target FPS, T is the clock divided by it, and
a target the board cannot meet is refused with the best it can reach and what runs out
(DSP slices, or a stage's speed).

The user's knobs per layer (`ParallelismOptions.reuse`, `.simd_pe`: from `--reuse`,
`--simd-pe`, the config file, the API) are read into one `LayerKnob` per layer by
`layer_knobs`, checked once (`fxhls.rtl.folding.check_knob`) and given one fold
(`fxhls.rtl.layers.knob_fold`: the SIMD x PE given, or the least parallel fold within the
reuse given that the RTL builds), which both backends take: the RTL that SIMD x PE, a
K-hot or binary layer here the same, a MAC layer here the reuse given (or, for a SIMD x PE,
its clocks per vector: the same multipliers). The automatic choice folds the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fxhls.ir.ops.mul_shift import node_widths
from fxhls.ir.ops.softmax import softmax_types
from fxhls.ir.graph import Graph, Node
from fxhls.ir.ops.windows import conv_out_size, window_kernel, window_pads
from fxhls.rtl.folding import LayerKnob, RtlParallelism, target_clocks, vector_steps
from fxhls.rtl.layers import folded_layer, knob_fold

from .dataflow import Plan, Stage
from .layers import pool
from .layers.conv import LANE_KERNELS, kernel_kind
from .naming import safe_graph

# The multiplier of one DSP slice: (wide operand, narrow operand) bits.
DSP_MULTIPLIER = {"DSP48E1": (25, 18), "DSP48E2": (27, 18)}
FOLDING_OPS = ("Conv", "Gemm")


@dataclass(frozen=True)
class LayerCost:
    """Estimates for one stage at its reuse: clocks per sample, multipliers, DSP slices."""

    cycles: int
    multipliers: int
    dsp: int


@dataclass(frozen=True)
class Folding:
    """How a layer's clocks and multipliers grow with its reuse r."""

    base: int  # clocks per sample: base + steps * r
    steps: int
    products: int  # multiplications per step: multipliers = ceil(products / r)
    dsp_per_multiplier: int

    @property
    def max_reuse(self) -> int:
        return max(self.products, 1)

    def cost(self, reuse: int) -> LayerCost:
        multipliers = math.ceil(self.products / reuse)
        return LayerCost(self.base + self.steps * reuse, multipliers, multipliers * self.dsp_per_multiplier)

    def reuse_within(self, interval: int) -> int:
        """The largest reuse that still finishes within `interval` clocks (at least 1)."""
        return min(max((interval - self.base) // self.steps, 1), self.max_reuse)


@dataclass(frozen=True, eq=False)
class LaneFolding:
    """A K-hot or binary Gemm/Conv folded as an MVU (templates/hls/layers/mvu.h): reuse r
    is its clocks per input vector, at the RTL's (SIMD, PE) for r (`lane_fold`); its
    input walk (`walk` clocks: padded pixels, or input beats) overlaps the `vectors` folds."""

    graph: Graph
    node: Node
    walk: int
    vectors: int

    @property
    def grouped(self) -> bool:  # a grouped Conv's MVU stays whole (`lane_fold`)
        return self.node.attrs.get("groups", 1) > 1

    @property
    def max_reuse(self) -> int:
        return 1 if self.grouped else vector_steps(self.graph, self.node, 1, 1)

    def cost(self, reuse: int) -> LayerCost:
        return LayerCost(max(self.walk, self.vectors * reuse), 0, 0)

    def reuse_within(self, interval: int) -> int:
        """The clocks per vector of the fold the RTL takes for `interval` (`folded_layer`)."""
        if self.grouped:
            return 1
        return vector_steps(self.graph, self.node, *folded_layer(self.graph, self.node, interval)[0])


def dsp_per_multiplier(a_bits: int, b_bits: int, primitive: str) -> int:
    """DSP slices of an a x b multiplier (an estimate: tiles of the slice's multiplier)."""
    wide, narrow = DSP_MULTIPLIER[primitive]
    a_bits, b_bits = max(a_bits, b_bits), min(a_bits, b_bits)
    return math.ceil(a_bits / wide) * math.ceil(b_bits / narrow)


def folding(plan: Plan, stage: Stage, primitive: str) -> Folding:
    """The cost model of a stage (a fork or a layer), as a function of its reuse."""
    incoming = plan.streams[stage.in_tensors[0]]
    node = stage.node
    if node is None or node.op in ("Flatten", "Reshape", "Transpose", "Relu", "Sign", "Quantize", "Add",
                                   "Threshold", "MultiThreshold", "Table", "Concat", "ArgMax"):
        beats = incoming.values if node is not None and node.op in ("Reshape", "Transpose") else incoming.beats
        return Folding(beats, 0, 0, 0)
    return _compute_folding(plan, stage, incoming, primitive)


def _compute_folding(plan, stage, incoming, primitive) -> Folding:
    graph_tensor = plan.graph.tensor
    node = stage.node
    x = graph_tensor(node.inputs[0])
    if node.op in FOLDING_OPS:
        w = graph_tensor(node.inputs[1])
        dsp = dsp_per_multiplier(x.type.width, w.type.width, primitive)
        padded, windows = _window_walk(plan.graph, node) if node.op == "Conv" else (incoming.beats, 1)
        if kernel_kind(plan.graph, node) in LANE_KERNELS:
            return LaneFolding(plan.graph, node, padded, windows)
        if node.op == "Gemm":
            return Folding(incoming.beats, 1, math.prod(w.shape), dsp)
        return Folding(0, padded, math.prod(w.shape), dsp)
    channels = incoming.lanes
    if node.op == "MaxPool":  # a padded pixel per clock
        return Folding(_window_walk(plan.graph, node)[0], 0, 0, 0)
    if node.op == "MulShift":  # one multiplier per channel
        multiplier_bits = node_widths(node, x.type, graph_tensor(node.outputs[0]).type)[0]
        return Folding(incoming.beats, 0, channels, dsp_per_multiplier(x.type.width, multiplier_bits, primitive))
    if node.op in ("Affine", "PRelu"):  # a multiplier per channel by its scale or slope, none where K-hot
        factor = graph_tensor(node.inputs[1])
        products = 0 if factor.facts.get("khot") else channels
        return Folding(incoming.beats, 0, products, dsp_per_multiplier(x.type.width, factor.type.width, primitive))
    if node.op == "Upsample":  # a pixel per clock out
        return Folding(incoming.beats * math.prod(node.attrs["scales"]), 0, 0, 0)
    if node.op == "Softmax":  # e[c] * r per channel
        types = softmax_types(node, x.type, channels)
        return Folding(incoming.beats, 0, channels, dsp_per_multiplier(types.exp.width, types.reciprocal.width,
                                                                       primitive))
    if node.op in ("AveragePool", "GlobalAveragePool"):  # one sum * 1/N per channel; a padded pixel per clock
        count = math.prod(node.attrs["kernel_shape"]) if node.op == "AveragePool" else incoming.beats
        reciprocal_type = pool.reciprocal_constant(node, count)[0]
        sums = pool.sum_type(x.type, count)
        walk = _window_walk(plan.graph, node)[0] if node.op == "AveragePool" else incoming.beats
        return Folding(walk, 0, channels, dsp_per_multiplier(sums.width, reciprocal_type.width, primitive))
    raise ValueError(f"node {node.name!r}: op {node.op} has no cost model in the HLS backend")


def _window_walk(graph: Graph, node: Node) -> tuple[int, int]:
    """A Conv's, MaxPool's or AveragePool's padded input pixels (its window generator's
    clocks, `conv2d_stream`) and its windows."""
    _, height, width = graph.tensor(node.inputs[0]).shape
    (kernel_h, kernel_w), (stride_h, stride_w) = window_kernel(graph, node), node.attrs["strides"]
    pad_h, pad_w = window_pads(node)
    windows = conv_out_size(height, kernel_h, stride_h, pad_h) * conv_out_size(width, kernel_w, stride_w, pad_w)
    return (height + 2 * pad_h) * (width + 2 * pad_w), windows


def choose_reuse(plan: Plan, primitive: str, dsp_budget: int, fixed: dict[str, int],
                 target: tuple[int, float] | None = None) -> dict[str, int]:
    """The reuse of every layer stage: `fixed` (stage name -> reuse) where given, else
    the balanced automatic choice described in the module docstring; with `target`
    (clocks per sample, clock in MHz), the least parallel choice that meets it."""
    search = _ReuseSearch(plan, primitive, fixed)
    if target is not None:
        return _meeting(search, target, dsp_budget)
    interval = search.smallest_within(dsp_budget)
    return search.within(search.high if interval is None else interval)


class _ReuseSearch:
    """The reuse of a plan's layers for a given pipeline interval, and its DSP slices."""

    def __init__(self, plan: Plan, primitive: str, fixed: dict[str, int]):
        layers = [stage for stage in plan.stages if stage.node is not None]
        self.models = {stage.name: folding(plan, stage, primitive) for stage in layers}
        self.free = [s.name for s in layers if s.node.op in FOLDING_OPS and s.name not in fixed]
        self.reuse = {s.name: fixed.get(s.name, 1) for s in layers}
        self.converters = max(plan.streams[plan.input].values, plan.streams[plan.output].values)
        self.low = max([self.converters] + [self.models[name].cost(r).cycles for name, r in self.reuse.items()])
        self.high = max([self.low] + [self.models[n].cost(self.models[n].max_reuse).cycles for n in self.free])

    def within(self, interval: int) -> dict[str, int]:
        """Every free layer at the largest reuse that still finishes within `interval`."""
        return dict(self.reuse) | {name: self.models[name].reuse_within(interval) for name in self.free}

    def dsp(self, choice: dict[str, int]) -> int:
        return sum(self.models[name].cost(r).dsp for name, r in choice.items())

    def smallest_within(self, budget: int) -> int | None:
        """The smallest interval whose choice fits `budget` DSP slices (None: none does)."""
        low, high = self.low, self.high
        if self.dsp(self.within(high)) > budget:
            return None
        while low < high:
            middle = (low + high) // 2
            if self.dsp(self.within(middle)) <= budget:
                high = middle
            else:
                low = middle + 1
        return low


def _meeting(search: _ReuseSearch, target: tuple[int, float], dsp_budget: int) -> dict[str, int]:
    """The least parallel reuse taking at most `target` = (clocks, MHz) per sample, or a
    one-line refusal with the best the design reaches and what runs out."""
    clocks, clock_mhz = target

    def fps(interval: int) -> str:
        return f"{clock_mhz * 1e6 / interval:,.0f} FPS ({interval} clocks per sample)"

    if search.low > clocks:
        stages = {"the stream converters": search.converters,
                  **{name: search.models[name].cost(r).cycles for name, r in search.reuse.items()}}
        slowest = max(stages, key=stages.get)
        raise ValueError(f"a target of {fps(clocks)} at {clock_mhz:g} MHz is out of reach: the best is "
                         f"{fps(search.low)}, limited by {slowest} ({stages[slowest]} clocks per sample at the "
                         f"most parallel)")
    choice = search.within(clocks)
    if search.dsp(choice) > dsp_budget:
        best = search.smallest_within(dsp_budget)
        reach = f"the best within them is {fps(best)}" if best else "even the least parallel design needs more"
        raise ValueError(f"a target of {fps(clocks)} needs {search.dsp(choice)} DSP slices, the budget is "
                         f"{dsp_budget}: {reach}")
    return choice


@dataclass(frozen=True)
class ParallelismOptions:
    """The user's parallelism: `reuse` maps a layer (its ONNX node name or its C++
    name) or "*" (every Conv and Gemm) to a reuse factor, `simd_pe` a layer to its
    (SIMD, PE), `set_by` a key of either to where it came from (for messages and the
    report); `dsp_budget` bounds the automatic choice (default: the board's DSP slices);
    `target_fps` asks for the least parallel design that reaches that many samples per
    second at the design's clock."""

    reuse: dict = field(default_factory=dict)
    dsp_budget: int | None = None
    target_fps: float | None = None
    simd_pe: dict = field(default_factory=dict)
    set_by: dict = field(default_factory=dict)


def layer_knobs(graph: Graph, options: ParallelismOptions, originals: dict[str, str] | None = None) -> dict[str, LayerKnob]:
    """Node name -> the user's knob of each Gemm or Conv of `graph` that has one, its
    `fold` the one both backends take (`knob_fold`). `originals` maps node names to the
    ONNX names the user may give too (the HLS backend's C++ names to the model's); a "*"
    reuse factor goes to every layer without its own, lowered to the layer's
    multiplications. One-line ValueErrors for a name that is no Gemm or Conv, a layer
    given both knobs, and a knob the layer cannot take (`check_knob`)."""
    originals = originals or {}
    layers = {node.name: node for node in graph.nodes if node.op in FOLDING_OPS}
    by_name = {node.name: node.name for node in graph.nodes} | {original: name for name, original in originals.items()}
    named = {}
    for kind, given in (("reuse", options.reuse), ("simd_pe", options.simd_pe)):
        for key, value in given.items():
            if key == "*" and kind == "reuse":
                continue
            if key not in by_name:
                raise ValueError(f"no layer {key!r} to set the {'reuse' if kind == 'reuse' else 'SIMD x PE'} of; the Conv and Gemm layers are "
                                 f"{', '.join(originals.get(n, n) for n in layers) or 'none'}")
            name = by_name[key]
            if name not in layers:
                raise ValueError(f"layer {key!r} does not fold (only Conv and Gemm layers take a reuse factor or a "
                                 f"SIMD x PE)")
            if name in named and named[name][0] != kind:
                raise ValueError(f"layer {key!r} is given both a reuse factor and a SIMD x PE: give one")
            named[name] = (kind, value, options.set_by.get(key, ""))
    every = options.reuse.get("*")
    knobs = {}
    for name, node in layers.items():
        label = originals.get(name, name)
        if name in named:
            kind, value, set_by = named[name]
            knob = LayerKnob(reuse=value, set_by=set_by) if kind == "reuse" else \
                LayerKnob(fold=_pair(value, label, set_by), set_by=set_by)
        elif every is not None and not _stays_whole(graph, node):
            if isinstance(every, bool) or not isinstance(every, int) or every < 1:
                raise ValueError(f"the reuse factor of every layer must be a positive integer, got {every!r}")
            knob = LayerKnob(reuse=min(every, math.prod(graph.tensor(node.inputs[1]).shape)),
                             set_by=options.set_by.get("*", ""))
        else:
            continue
        if _stays_whole(graph, node):
            raise ValueError(f"layer {label!r}{_from(knob.set_by)}: a grouped K-hot or binary Conv stays whole in the HLS "
                             f"backend; it takes no reuse factor or SIMD x PE")
        knobs[name] = LayerKnob(knob.reuse, knob_fold(graph, node, knob, label), knob.set_by)
    return knobs


def _from(set_by: str) -> str:
    return f" ({set_by})" if set_by else ""


def _pair(value, label: str, set_by: str) -> tuple[int, int]:
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise ValueError(f"layer {label!r}{_from(set_by)}: a SIMD x PE is two positive integers, got {value!r}")


def _stays_whole(graph: Graph, node: Node) -> bool:
    """A grouped K-hot or binary Conv: its MVU here stays whole (`lane_fold`)."""
    return node.attrs.get("groups", 1) > 1 and kernel_kind(graph, node) in LANE_KERNELS


def rtl_parallelism(graph: Graph, options: ParallelismOptions) -> RtlParallelism:
    """The RTL's parallelism for the user's: the target FPS and the knob of each layer of
    hardware graph `graph` that has one (`layer_knobs`, under the names the HLS backend also
    takes: a one-line ValueError for a bad knob), which the RTL folds as `knob_fold` does."""
    safe, originals = safe_graph(graph)
    knobs = {originals[name]: knob for name, knob in layer_knobs(safe, options, originals).items()}
    return RtlParallelism(options.target_fps,
                          layers={name: knob.fold for name, knob in knobs.items() if knob.reuse is None},
                          reuse={name: knob.reuse for name, knob in knobs.items() if knob.reuse is not None},
                          set_by={name: knob.set_by for name, knob in knobs.items() if knob.set_by})


def knob_reuse(graph: Graph, node: Node, knob: LayerKnob) -> int:
    """The reuse of a knobbed layer here: a MAC layer's reuse factor as given, else the
    clocks per input vector of the knob's fold."""
    if knob.reuse is not None and kernel_kind(graph, node) not in LANE_KERNELS:
        return knob.reuse
    return vector_steps(graph, node, *knob.fold)


def resolve_reuse(plan: Plan, board, originals: dict[str, str], options: ParallelismOptions,
                  clock_mhz: float | None = None, knobs: dict[str, LayerKnob] | None = None) -> dict[str, int]:
    """Every layer stage's reuse: that of the user's knob (`knobs`, default
    `layer_knobs` of the options) where set, the automatic choice elsewhere (aimed at
    `options.target_fps` at `clock_mhz` when set)."""
    knobs = layer_knobs(plan.graph, options, originals) if knobs is None else knobs
    stages = {stage.name: stage for stage in plan.stages}
    fixed = {name: knob_reuse(plan.graph, stages[name].node, knob) for name, knob in knobs.items()}
    budget = board.resources["dsp"] if options.dsp_budget is None else options.dsp_budget
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValueError(f"the DSP budget must be a non-negative integer, got {budget!r}")
    return choose_reuse(plan, board.dsp_primitive, budget, fixed, _target(options.target_fps, clock_mhz))


def _target(target_fps: float | None, clock_mhz: float | None) -> tuple[int, float] | None:
    """(clocks per sample, MHz) for a target FPS, or None without one."""
    if target_fps is None:
        return None
    if clock_mhz is None:
        raise ValueError("a target FPS needs the design's clock")
    return target_clocks(target_fps, clock_mhz), float(clock_mhz)
