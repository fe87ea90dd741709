"""The RTL top's parallelism: SIMD and PE of each compute layer, lanes of the other stages.

The stages of the top run as one pipeline, so its clocks per sample are those of its
slowest stage. The rule: a target of T clocks per sample (from `target_fps` at the
board's clock, else the smallest T the compute layers and the stream converters can
reach: the largest of the layers' fully parallel clocks per sample and the input's and
output's words per sample, or the smallest T above it at which the compute layers fit the
board's budget, `fxhls.rtl.budget`), then every compute layer gets the least
parallelism (SIMD * PE; ties to the fewer window taps, then the larger SIMD) that
takes at most T clocks, and
every other stage the fewest lanes (a divisor of its channels) that pass a sample in
at most T beats, keeping the lanes of the stream it reads where they suffice. A layer
that cannot reach T runs fully parallel. The user may fix (SIMD, PE) per layer, or a reuse
factor r: the least parallel fold taking at most r clocks per input vector (`fold_of_steps`);
either is checked by `check_knob`, and the target T counts a knobbed layer at its fold.

A convolution's SIMD runs up to its whole window (KH * KW * C values, a window per
clock; `fxhls.rtl.windows.window_lanes`), a dense layer's up to its whole input vector.
Clocks per sample are the formulas of `fxhls.rtl.layers` (compute) and one beat per
clock for element-wise stages; pooling takes one window beat per clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fxhls.ir.graph import Graph, Node
from fxhls.ir.ops.windows import conv_out_size

from .windows import window_lanes


@dataclass(frozen=True)
class RtlParallelism:
    """The user's choice: `target_fps` (at the design's clock) for the automatic rule,
    `layers`: ONNX node name -> (SIMD, PE) of a Gemm or Conv, kept as given, `reuse`:
    node name -> a reuse factor (at most that many clocks per input vector), and `set_by`:
    node name -> the knob that set its fold, for the report."""

    target_fps: float | None = None
    layers: dict = field(default_factory=dict)
    reuse: dict = field(default_factory=dict)
    set_by: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LayerKnob:
    """A user's parallelism for one Gemm or Conv: a reuse factor (at most that many clocks
    per input vector) or a fold (SIMD, PE); `set_by` says where it came from (an option,
    a config file entry), for messages and the report."""

    reuse: int | None = None
    fold: tuple[int, int] | None = None
    set_by: str = ""


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def compute_cycles(graph: Graph, node: Node, simd: int, pe: int) -> int:
    """Clocks per sample of Gemm or Conv `node` folded by SIMD and PE (fxhls.rtl.layers)."""
    per_vector = vector_steps(graph, node, simd, pe)
    if node.op == "Gemm":
        return per_vector
    x, weights = graph.tensor(node.inputs[0]), graph.tensor(node.inputs[1])
    channels, height, width = x.shape
    out_h, out_w = (conv_out_size(n, k, s, p) for n, k, s, p in
                    zip((height, width), weights.shape[2:], node.attrs["strides"], node.attrs["pads"]))
    channel_lanes, _ = window_lanes(simd, channels, math.prod(weights.shape[2:]))
    return max(out_h * out_w * per_vector, height * width * channels // channel_lanes)


def vector_steps(graph: Graph, node: Node, simd: int, pe: int) -> int:
    """Clocks the MVU of Gemm or Conv `node` takes per input vector (a window): SF x NF."""
    weights = graph.tensor(node.inputs[1])
    # a grouped Conv's MVU reads the whole window (zero weights outside each group: fxhls.rtl.layers)
    out_features, fan_in = weights.shape[0], math.prod(weights.shape[1:]) * node.attrs.get("groups", 1)
    return (fan_in // simd) * (out_features // pe)


def fold_of_steps(graph: Graph, node: Node, steps: int) -> tuple[int, int]:
    """The least parallel (SIMD, PE) of `node` taking at most `steps` clocks per vector
    (in `folding_candidates`' order): the fold of a reuse factor of the HLS backend."""
    return next(pair for pair in folding_candidates(graph, node) if vector_steps(graph, node, *pair) <= steps)


def folding_candidates(graph: Graph, node: Node) -> list[tuple[int, int]]:
    """Every (SIMD, PE) the layer may take, least parallel first (ties: fewer window taps,
    then larger SIMD)."""
    x, weights = graph.tensor(node.inputs[0]), graph.tensor(node.inputs[1])
    if node.op == "Conv":
        channels, positions = x.shape[0], math.prod(weights.shape[2:])
        simds = sorted({c * t for c in divisors(channels) for t in divisors(positions)
                        if window_lanes(c * t, channels, positions) is not None})
        taps = {s: window_lanes(s, channels, positions)[1] for s in simds}
    else:
        simds, taps = divisors(math.prod(weights.shape[1:])), {}
    pairs = [(s, p) for s in simds for p in divisors(weights.shape[0])]
    return sorted(pairs, key=lambda pair: (pair[0] * pair[1], taps.get(pair[0], 1), -pair[0]))


def multiplications(graph: Graph, node: Node) -> int:
    """The products of one input vector (a window) of Gemm or Conv `node`: its largest reuse factor."""
    return math.prod(graph.tensor(node.inputs[1]).shape)


def check_knob(graph: Graph, node: Node, knob: LayerKnob, label: str | None = None) -> None:
    """A one-line ValueError naming layer `label` (default: the node's name) and what it
    takes, unless `knob` is a reuse factor from 1 to its multiplications per vector or a
    (SIMD, PE) among its `folding_candidates`."""
    label = label or node.name
    where = f"layer {label!r} ({knob.set_by})" if knob.set_by else f"layer {label!r}"
    if knob.reuse is not None:
        most = multiplications(graph, node)
        if isinstance(knob.reuse, bool) or not isinstance(knob.reuse, int) or not 1 <= knob.reuse <= most:
            raise ValueError(f"{where}: a reuse factor is a whole number from 1 to its {most} multiplications per "
                             f"input vector, got {knob.reuse!r}")
        return
    pairs = folding_candidates(graph, node)
    if tuple(knob.fold) in pairs:
        return
    simds, pes = sorted({s for s, _ in pairs}), sorted({p for _, p in pairs})
    inputs = ("a divisor of its channels, or its channels times a divisor of its kernel positions"
              if node.op == "Conv" else "a divisor of its inputs")
    raise ValueError(f"{where}: SIMD x PE {knob.fold[0]} x {knob.fold[1]} is no fold of it: SIMD is {inputs} "
                     f"({', '.join(map(str, simds))}), PE a divisor of its {graph.tensor(node.inputs[1]).shape[0]} "
                     f"outputs ({', '.join(map(str, pes))})")


def allowed_foldings(graph: Graph, node: Node, options: RtlParallelism) -> list[tuple[int, int]]:
    """The (SIMD, PE) pairs the user's knob leaves `node`, least parallel first: the fold
    given, those within the reuse factor given, or every candidate."""
    if node.name in options.layers:
        simd, pe = options.layers[node.name]
        return [(int(simd), int(pe))]
    candidates = folding_candidates(graph, node)
    if node.name in options.reuse:
        return [pair for pair in candidates if vector_steps(graph, node, *pair) <= options.reuse[node.name]]
    return candidates


def fold_set_by(knob: LayerKnob | None, target_fps: float | None) -> str:
    """What chose a compute layer's fold, for the report: the user's knob (where it came
    from), else the target FPS, else the automatic rule (the fastest within the board)."""
    if knob is not None:
        return knob.set_by or ("the user's reuse factor" if knob.reuse is not None else "the user's SIMD x PE")
    return "--target-fps" if target_fps is not None else "automatic"


def layer_knob(options: RtlParallelism, name: str) -> LayerKnob | None:
    """The user's knob of compute layer `name` in `options`; None where it has none."""
    if name in options.layers or name in options.reuse:
        return LayerKnob(options.reuse.get(name), options.layers.get(name), options.set_by.get(name, ""))
    return None


def target_cycles(graph: Graph, compute_nodes: list[Node], clock_mhz: float, options: RtlParallelism,
                  floor: int = 1) -> int:
    """T, the clocks per sample the rule aims at (see the module docstring); `floor`: the
    clocks the stream converters take per sample (nothing need be faster)."""
    if options.target_fps is not None:
        return target_clocks(options.target_fps, clock_mhz)
    fastest = [min(compute_cycles(graph, n, s, p) for s, p in allowed_foldings(graph, n, options))
               for n in compute_nodes]
    return max([floor, *fastest])


def target_clocks(target_fps: float, clock_mhz: float) -> int:
    """The clocks per sample that reach `target_fps` samples per second at `clock_mhz`
    (both backends fold to it)."""
    if isinstance(target_fps, bool) or not isinstance(target_fps, (int, float)) or not 0 < target_fps < float("inf"):
        raise ValueError(f"the target FPS must be a positive number, got {target_fps!r}")
    return max(1, int(clock_mhz * 1e6 // target_fps))


def ordered_foldings(graph: Graph, node: Node, target: int, options: RtlParallelism) -> list[tuple[int, int]]:
    """The (SIMD, PE) pairs to try for `node`, best first: the user's; within the user's
    reuse factor, the least parallel first; else the least parallel meeting `target`, then
    the rest by clocks per sample."""
    if node.name in options.layers or node.name in options.reuse:
        return allowed_foldings(graph, node, options)
    candidates = folding_candidates(graph, node)
    meeting = [pair for pair in candidates if compute_cycles(graph, node, *pair) <= target]
    rest = sorted((pair for pair in candidates if pair not in meeting),
                  key=lambda pair: (compute_cycles(graph, node, *pair), pair[0] * pair[1]))
    return meeting + rest


def stage_lanes(channels: int, values: int, target: int, preferred: int) -> int:
    """Lanes of an element-wise or pooling stage: `preferred` (the lanes of its input
    stream) when they divide the channels and pass the sample's `values` in at most
    `target` beats, else the smallest divisor of the channels that does (or all)."""
    if channels % preferred == 0 and values // preferred <= target:
        return preferred
    return next((d for d in divisors(channels) if values // d <= target), channels)
