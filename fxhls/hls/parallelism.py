"""Parallelism: each layer's reuse factor, and the cost estimates the report shows.

A stage handles one sample per call. Element-wise stages, pools and the converters
take one beat (pixel) per clock with all its channels in parallel. Conv and Gemm
layers fold: with reuse r their compute starts every r clocks and shares each
multiplier r ways (hls4ml's reuse factor). A Conv takes r clocks per (padded) input
pixel, a Gemm its input beats plus r clocks per sample.

The automatic choice (`choose_reuse`) balances the dataflow pipeline within the
board's DSP slices: the pipeline's interval is its slowest stage's, so it finds the
smallest interval T for which every folding layer, given the largest reuse that
still finishes within T, fits the DSP budget (the board's DSP count unless given);
layers faster than T fold for free. Reuse factors set by the user are kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .dataflow import Plan, Stage
from .layers import pool
from .layers.conv import kernel_kind

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
                                   "MaxPool", "Threshold", "MultiThreshold"):
        beats = incoming.values if node is not None and node.op in ("Reshape", "Transpose") else incoming.beats
        return Folding(beats, 0, 0, 0)
    return _compute_folding(plan, stage, incoming, primitive)


def _compute_folding(plan, stage, incoming, primitive) -> Folding:
    graph_tensor = plan.graph.tensor
    node = stage.node
    x = graph_tensor(node.inputs[0])
    if node.op in FOLDING_OPS:
        w = graph_tensor(node.inputs[1])
        per_step = math.prod(w.shape)
        products = per_step if kernel_kind(plan.graph, node) == "mac" else 0
        dsp = dsp_per_multiplier(x.type.width, w.type.width, primitive)
        if node.op == "Gemm":
            return Folding(incoming.beats, 1, products, dsp)
        (_, height, width), (pad_h, pad_w) = x.shape, node.attrs["pads"]
        return Folding(0, (height + 2 * pad_h) * (width + 2 * pad_w), products, dsp)
    channels = incoming.lanes
    if node.op == "Affine":
        scale = graph_tensor(node.inputs[1])
        products = 0 if scale.facts.get("khot") else channels
        return Folding(incoming.beats, 0, products, dsp_per_multiplier(x.type.width, scale.type.width, primitive))
    if node.op in ("AveragePool", "GlobalAveragePool"):  # one sum * 1/N per channel
        count = math.prod(node.attrs["kernel_shape"]) if node.op == "AveragePool" else incoming.beats
        reciprocal_type = pool.reciprocal_constant(node, count)[0]
        sums = pool.sum_type(x.type, count)
        return Folding(incoming.beats, 0, channels, dsp_per_multiplier(sums.width, reciprocal_type.width, primitive))
    raise ValueError(f"node {node.name!r}: op {node.op} has no cost model in the HLS backend")


def choose_reuse(plan: Plan, primitive: str, dsp_budget: int, fixed: dict[str, int]) -> dict[str, int]:
    """The reuse of every layer stage: `fixed` (stage name -> reuse) where given, else
    the balanced automatic choice described in the module docstring."""
    layers = [stage for stage in plan.stages if stage.node is not None]
    models = {stage.name: folding(plan, stage, primitive) for stage in layers}
    free = [s.name for s in layers if s.node.op in FOLDING_OPS and s.name not in fixed]
    reuse = {s.name: fixed.get(s.name, 1) for s in layers}

    def total_dsp(choice):
        return sum(models[name].cost(r).dsp for name, r in choice.items())

    def within(interval):
        choice = dict(reuse)
        for name in free:
            model = models[name]
            choice[name] = min(max((interval - model.base) // model.steps, 1), model.max_reuse)
        return choice

    converters = max(plan.streams[plan.input].values, plan.streams[plan.output].values)
    low = max([converters] + [models[name].cost(r).cycles for name, r in reuse.items()])
    high = max([low] + [models[name].cost(models[name].max_reuse).cycles for name in free])
    if total_dsp(within(high)) > dsp_budget:
        return within(high)
    while low < high:
        middle = (low + high) // 2
        if total_dsp(within(middle)) <= dsp_budget:
            high = middle
        else:
            low = middle + 1
    return within(low)


@dataclass(frozen=True)
class ParallelismOptions:
    """The user's parallelism: `reuse` maps a layer (its ONNX node name or its C++
    name) or "*" (every Conv and Gemm) to a reuse factor; `dsp_budget` bounds the
    automatic choice (default: the board's DSP slices)."""

    reuse: dict = field(default_factory=dict)
    dsp_budget: int | None = None


def resolve_reuse(plan: Plan, board, originals: dict[str, str], options: ParallelismOptions) -> dict[str, int]:
    """Every layer stage's reuse: the user's where set, the automatic choice elsewhere."""
    folding_layers = [s.name for s in plan.stages if s.node is not None and s.node.op in FOLDING_OPS]
    by_name = {name: name for name in originals} | {original: name for name, original in originals.items()}
    fixed = {}
    for key, value in options.reuse.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"the reuse factor of {key!r} must be a positive integer, got {value!r}")
        if key == "*":
            fixed |= {name: value for name in folding_layers if name not in fixed}
            continue
        if key not in by_name:
            raise ValueError(f"no layer {key!r} to set the reuse of; the Conv and Gemm layers are "
                             f"{', '.join(originals[n] for n in folding_layers) or 'none'}")
        if by_name[key] not in folding_layers:
            raise ValueError(f"layer {key!r} does not fold (only Conv and Gemm layers take a reuse factor)")
        fixed[by_name[key]] = value
    budget = board.resources["dsp"] if options.dsp_budget is None else options.dsp_budget
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValueError(f"the DSP budget must be a non-negative integer, got {budget!r}")
    return choose_reuse(plan, board.dsp_primitive, budget, fixed)
