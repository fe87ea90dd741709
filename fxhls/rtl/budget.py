"""The RTL's fold within the board's resources.

Without a target FPS the RTL is folded as fast as the board holds: the smallest common
interval T (clocks per sample) at which its compute layers, each at the least parallel
(SIMD, PE) meeting T (`fxhls.rtl.folding.ordered_foldings`), fit the budget in their
estimated LUTs and DSP slices (`fxhls.rtl.costs`); with a target FPS beyond that budget
the RTL is refused in one line that names the best FPS within it and the resource that
runs out. The budget is the board's LUTs and DSP slices less HEADROOM, left to the
shell (DMA, interconnect, the processor's glue) and to the stages the estimate leaves out
(element-wise stages, pools, stream converters, FIFOs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fxhls.ir.graph import Graph, Node

from .costs import layer_dsps, layer_luts
from .folding import RtlParallelism, compute_cycles, folding_candidates, ordered_foldings
from .layers import compute_layer

# The fraction of the board's LUTs and DSP slices the compute layers may not take.
HEADROOM = 0.3
RESOURCES = {"lut": "LUT", "dsp": "DSP slices"}


@dataclass(frozen=True)
class Budget:
    """The LUTs and DSP slices the compute layers may take, and the board's own counts."""

    lut: int
    dsp: int
    board: dict

    @classmethod
    def of_board(cls, resources: dict) -> Budget:
        return cls(int(resources["lut"] * (1 - HEADROOM)), int(resources["dsp"] * (1 - HEADROOM)), dict(resources))

    def over(self, used: dict) -> str | None:
        """The first resource `used` exceeds, or None."""
        return next((key for key in RESOURCES if used[key] > getattr(self, key)), None)


BRAM36_BITS = 36 * 1024


def check_weight_memory(graph: Graph, nodes: list[Node], board_name: str, resources: dict) -> None:
    """Refuse, in one line naming the layer, a compute layer whose weight ROM (a grouped
    Conv's read densely, zeros outside each group) holds more bits than all the board's
    block RAM: no fold builds it, and packing it would take minutes and gigabytes."""
    memory = resources["bram36"] * BRAM36_BITS
    for node in nodes:
        weights = graph.tensor(node.inputs[1])
        rows = weights.shape[0]
        columns = math.prod(weights.shape[1:]) * node.attrs.get("groups", 1)
        bits = 1 if weights.facts.get("binary") else weights.type.width
        if rows * columns * bits > memory:
            dense = ", a grouped Conv read densely" if node.attrs.get("groups", 1) > 1 else ""
            raise ValueError(f"node {node.name!r} ({node.op}): its weight ROM takes {rows * columns * bits:,} bits "
                             f"({rows:,} x {columns:,} weights of {bits} bits{dense}), more than the {board_name}'s "
                             f"{resources['bram36']} BRAM36 hold ({memory:,} bits); the RTL backend has no such "
                             f"layer, the HLS backend builds it")


class FoldEstimate:
    """The compute layers' estimated resources at a common interval, each layer at the
    fold `fxhls.rtl.top_stages` gives it (cached per layer and fold)."""

    def __init__(self, graph: Graph, nodes: list[Node], options: RtlParallelism, lut_levels: int | None):
        self.graph, self.nodes, self.options, self.lut_levels = graph, nodes, options, lut_levels
        self._costs: dict[tuple[str, int, int], tuple[int, int] | None] = {}

    def _cost(self, node: Node, simd: int, pe: int) -> tuple[int, int] | None:
        key = (node.name, simd, pe)
        if key not in self._costs:
            try:
                layer = compute_layer(self.graph, node, simd, pe, None, "estimate", self.lut_levels)
                self._costs[key] = (layer_luts(layer), layer_dsps(layer))
            except ValueError:
                self._costs[key] = None
        return self._costs[key]

    def at(self, target: int) -> dict:
        """{"lut": ..., "dsp": ...} of the compute layers folded for `target` clocks per sample."""
        used = {"lut": 0, "dsp": 0}
        for node in self.nodes:
            cost = next((c for pair in ordered_foldings(self.graph, node, target, self.options)
                         if (c := self._cost(node, *pair)) is not None), (0, 0))
            used["lut"] += cost[0]
            used["dsp"] += cost[1]
        return used

    def intervals(self, low: int) -> list[int]:
        """The intervals from `low` at which some layer's fold changes, ascending."""
        return sorted({low} | {cycles for node in self.nodes for pair in folding_candidates(self.graph, node)
                               if (cycles := compute_cycles(self.graph, node, *pair)) > low})

    def fastest_within(self, budget: Budget, low: int) -> int | None:
        """The smallest interval from `low` whose fold fits `budget` (None: none does)."""
        times = self.intervals(low)
        if budget.over(self.at(times[-1])):
            return None
        first, last = 0, len(times) - 1
        while first < last:
            middle = (first + last) // 2
            if budget.over(self.at(times[middle])):
                first = middle + 1
            else:
                last = middle
        return times[first]
