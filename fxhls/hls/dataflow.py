"""The dataflow plan of a hardware graph: which nodes become stages, which streams
connect them, where a stream forks, and how deep each FIFO is.

Works on a graph with C++ identifier names (`fxhls.hls.naming.safe_graph`).
- The input cast (the Quantize reading the graph input) gets no stage: the host
  casts, and the input stream carries its output.
- Flatten, Reshape and Transpose whose output travels in the same beats as their
  input get no stage (they share its stream); so does a Flatten of a multi-pixel
  image read only by Gemm nodes (the Gemm reads the image's pixels).
- A Threshold that a binary Gemm/Conv computes (`bnn.fused_threshold`) gets no stage:
  that layer writes the Threshold's output.
- A stream read by k > 1 stages (the output converter counts as one) goes through
  k - 1 two-way forks; each copy's FIFO holds what the other branches need before
  their first output (their lag), so that no branch waits on a full FIFO.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, field

from fxhls.deploy.packing import stream_image
from fxhls.ir.graph import Graph, Node
from fxhls.ir.ops.windows import WINDOW_OPS, window_kernel, window_pads

from .layers.bnn import fused_threshold
from .layers.context import Stream

MOVERS = ("Flatten", "Reshape", "Transpose")
FIFO_MARGIN = 2


@dataclass
class Stage:
    """One dataflow stage: a layer (`node` set) or a fork; its stream variables."""

    name: str
    node: Node | None
    tensor: str  # the tensor it writes (a fork: the tensor it copies)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    in_tensors: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """`graph` the planned graph; `streams`: tensor -> its Stream (tensors that have a stream of their own);
    `variables`: stream variable -> (tensor, FIFO depth or None for the default);
    `stages` in dataflow order; `input`/`output`: the tensors the converters move."""

    graph: Graph
    streams: dict[str, Stream]
    variables: dict[str, tuple[str, int | None]]
    stages: list[Stage]
    input: str
    output: str
    input_variable: str
    output_variable: str


def natural_stream(tensor) -> Stream:
    """The beats of a tensor of its own: an image's (or a sequence's) pixels, or a vector
    as one beat."""
    image = stream_image(tensor.shape)
    if image is not None:
        channels, height, width = image
        return Stream(height * width, channels, tensor.type)
    return Stream(1, math.prod(tensor.shape), tensor.type)


def plan_dataflow(graph: Graph) -> Plan:
    """The stages and streams of `graph` (checked by `check_hardware_graph`)."""
    cast = graph.consumers(graph.inputs[0])[0]
    source = cast.outputs[0]
    carrier = {source: source}  # tensor -> the tensor whose stream carries it
    streams = {source: natural_stream(graph.tensor(source))}
    stages, skipped = [], set()
    for node in graph.nodes:
        if node is cast or node.name in skipped:
            continue
        inputs = [carrier[name] for name in node.inputs if not graph.is_constant(name)]
        if node.op in MOVERS and _shares_stream(graph, node, streams[inputs[0]]):
            carrier[node.outputs[0]] = inputs[0]
            continue
        output = node.outputs[0]
        fused = fused_threshold(graph, node) if node.op in ("Gemm", "Conv") else None
        if fused is not None:
            skipped.add(fused.name)
            output = fused.outputs[0]
        carrier[output] = output
        streams[output] = natural_stream(graph.tensor(output))
        stages.append(Stage(node.name, node, output, in_tensors=inputs))
    output = carrier[graph.outputs[0]]
    return _connect(graph, stages, streams, source, output)


def _shares_stream(graph: Graph, node: Node, incoming: Stream) -> bool:
    own = natural_stream(graph.tensor(node.outputs[0]))
    if (own.beats, own.lanes) == (incoming.beats, incoming.lanes):
        return True
    readers = graph.consumers(node.outputs[0])
    return (node.op == "Flatten" and node.outputs[0] not in graph.outputs and bool(readers)
            and all(reader.op == "Gemm" for reader in readers))


def _connect(graph, stages, streams, source, output) -> Plan:
    """Stream variables for every read, forks where a stream has several readers."""
    readers: dict[str, list] = {tensor: [] for tensor in streams}
    for stage in stages:
        for position, tensor in enumerate(stage.in_tensors):
            readers[tensor].append((stage, position))
    readers[output].append((None, 0))  # the output converter
    variables, ordered, reads = {}, [], {}
    producers = {stage.tensor: stage for stage in stages}
    lags = _branch_lags(graph, stages, streams, readers)
    for tensor in [source] + [stage.tensor for stage in stages]:
        variable = f"{tensor}_stream"
        variables[variable] = (tensor, None)
        if tensor in producers:
            producers[tensor].outputs.append(variable)
            ordered.append(producers[tensor])
        branches = readers[tensor]
        if len(branches) == 1:
            reads[id(branches[0][0]), branches[0][1]] = variable
            continue
        copies = [f"{tensor}_branch{_letters(i)}" for i in range(len(branches))]
        for i, copy in enumerate(copies):
            others = [lag for j, lag in enumerate(lags[tensor]) if j != i]
            variables[copy] = (tensor, min(streams[tensor].beats, max(others) + FIFO_MARGIN))
            reads[id(branches[i][0]), branches[i][1]] = copy
        incoming = variable
        for i in range(len(branches) - 1):
            rest = copies[-1] if i == len(branches) - 2 else f"{tensor}_rest{_letters(i + 1)}"
            if rest not in variables:
                variables[rest] = (tensor, None)
            ordered.append(Stage(f"{tensor}_fork{_letters(i)}", None, tensor, [incoming], [copies[i], rest], [tensor]))
            incoming = rest
    for stage in stages:
        stage.inputs = [reads[id(stage), position] for position in range(len(stage.in_tensors))]
    return Plan(graph, streams, variables, ordered, source, output, f"{source}_stream", reads[id(None), 0])


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, digit = divmod(index - 1, 26)
        letters = string.ascii_lowercase[digit] + letters
    return letters


def stage_lag(graph: Graph, node: Node, incoming: Stream) -> int:
    """Beats a stage reads before it writes its first beat (at most all of them)."""
    if node.op in WINDOW_OPS:
        _, _, width = graph.tensor(node.inputs[0]).shape
        (kernel_h, kernel_w), (pad_h, pad_w) = window_kernel(graph, node), window_pads(node)
        lag = max(kernel_h - 1 - pad_h, 0) * width + max(kernel_w - 1 - pad_w, 0) + 1
        return min(lag, incoming.beats)
    if node.op in ("Gemm", "GlobalAveragePool", "Flatten"):
        return incoming.beats
    if node.op in MOVERS:
        out = natural_stream(graph.tensor(node.outputs[0]))
        return min(-(-out.lanes // incoming.lanes), incoming.beats)
    return 1


def _branch_lags(graph, stages, streams, readers) -> dict[str, list[int]]:
    """For each tensor, per reader: the lag (in the tensor's beats) of the branch that
    starts at that reader, up to where branches meet."""
    downstream = {}  # stage -> every stage it feeds, itself included
    for stage in reversed(stages):
        reached = {id(stage)}
        for tensor_reader, _ in readers.get(stage.tensor, []):
            if tensor_reader is not None:
                reached |= downstream[id(tensor_reader)]
        downstream[id(stage)] = reached
    lags = {}
    for tensor, branches in readers.items():
        if len(branches) < 2:
            continue
        reach = [downstream[id(stage)] if stage is not None else set() for stage, _ in branches]
        lags[tensor] = []
        for i, own in enumerate(reach):
            shared = set().union(*(r for j, r in enumerate(reach) if j != i))
            lags[tensor].append(_longest_lag(graph, [s for s in stages if id(s) in own - shared],
                                             streams, streams[tensor].beats))
    return lags


def _longest_lag(graph, branch, streams, beats) -> int:
    """The largest sum of stage lags along a path through `branch` (stages in order),
    each lag counted in the forked tensor's beats (scaled up where a stage reads fewer)."""
    longest: dict[str, int] = {}
    for stage in branch:
        incoming = streams[stage.in_tensors[0]]
        lag = math.ceil(stage_lag(graph, stage.node, incoming) * beats / incoming.beats)
        longest[stage.tensor] = lag + max((longest.get(t, 0) for t in stage.in_tensors), default=0)
    return max(longest.values(), default=0)
