"""The stream nets of a generated RTL top: which stream carries each tensor to each reader.

A stage reads a stream in the form it takes: regrouped to its lanes (`fxhls_regroup`)
and, for stages that take codes, binarized values (one bit, 1 = +1) as ap_fixed<2,2>
codes (`fxhls_binary_codes`). A tensor read by two stages (a residual block) is forked
(`fxhls_fork`); the branch to the Add gets a FIFO deep enough for what the other branch
holds (`fxhls.rtl.top_branches.shortcut_depth`). Flatten, Reshape and Transpose pass
their input's stream on.
"""

from __future__ import annotations

from fxhls.ir.graph import Graph, Node
from fxhls.ir.passes.bnn import holds_binary_values

from .top_branches import shortcut_depth
from .top_parts import Instance, Stream

PASS_THROUGH = ("Flatten", "Reshape", "Transpose")


class StreamNetwork:
    """The streams and instances of a top, and the stream of each tensor."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.streams: list[Stream] = []
        self.instances: list[Instance] = []
        self._of_tensor: dict[str, Stream] = {}  # tensor (or "tensor@reader" after a fork) -> stream
        self._fused: set[str] = set()  # nodes computed by another stage

    def new_stream(self, base: str, lanes: int, bits: int, binary: bool = False) -> Stream:
        stream = Stream(f"{base}_{len(self.streams)}", lanes, bits, binary)
        self.streams.append(stream)
        return stream

    def publish(self, tensor: str, stream: Stream) -> None:
        """`stream` carries `tensor`; fork it when two stages read it."""
        readers = self._stage_readers(tensor)
        if len(readers) > 2:
            raise ValueError(f"tensor {tensor!r} is read by {len(readers)} stages; the RTL top forks a stream in two")
        if len(readers) < 2:
            self._of_tensor[tensor] = stream
            return
        join = next((r for r in readers if r.op == "Add"), None)
        if join is None:
            raise ValueError(f"tensor {tensor!r} is read by {readers[0].name!r} and {readers[1].name!r}; the RTL top "
                             f"forks a stream only into a residual block (one reader an Add)")
        main = next(r for r in readers if r is not join)
        name = f"fork_{len(self.instances)}"
        to_main = self.new_stream(name, stream.lanes, stream.bits, stream.binary)
        to_fifo = self.new_stream(name, stream.lanes, stream.bits, stream.binary)
        to_join = self.new_stream(name, stream.lanes, stream.bits, stream.binary)
        self.instances.append(Instance("fxhls_fork", name, {"W": stream.width},
                                       {"s_axis": stream.name, "m0_axis": to_main.name, "m1_axis": to_fifo.name},
                                       f"{tensor}: to {main.name} and to {join.name}"))
        depth = shortcut_depth(self.graph, tensor, join, stream.lanes)
        self.instances.append(Instance("fxhls_fifo", f"{name}_shortcut", {"W": stream.width, "DEPTH": depth},
                                       {"s_axis": to_fifo.name, "m_axis": to_join.name},
                                       f"the shortcut of {tensor}, {depth} beats"))
        self._of_tensor[f"{tensor}@{main.name}"] = to_main
        self._of_tensor[f"{tensor}@{join.name}"] = to_join

    def read(self, tensor: str, reader: Node | None, lanes: int, codes: bool) -> Stream:
        """The stream of `tensor` as `reader` takes it: `lanes` per beat, binarized
        values as codes when `codes`."""
        stream = self.incoming(tensor, reader)
        if codes and stream.binary:
            converted = self.new_stream("codes", stream.lanes, 2)
            self.instances.append(Instance("fxhls_binary_codes", f"codes_{len(self.instances)}",
                                           {"LANES": stream.lanes}, {"s_axis": stream.name, "m_axis": converted.name}))
            stream = converted
        if stream.lanes != lanes:
            regrouped = self.new_stream("regroup", lanes, stream.bits, stream.binary)
            self.instances.append(Instance("fxhls_regroup", f"regroup_{len(self.instances)}",
                                           {"W": stream.bits, "IN": stream.lanes, "OUT": lanes},
                                           {"s_axis": stream.name, "m_axis": regrouped.name}))
            stream = regrouped
        return stream

    def incoming(self, tensor: str, reader: Node | None) -> Stream:
        """The stream that brings `tensor` to `reader` (its branch, after a fork; None:
        the top's output)."""
        source = self._source(tensor)
        branch = self._of_tensor.get(f"{source}@{reader.name}") if reader is not None else None
        return branch or self._of_tensor[source]

    def binary(self, tensor: str) -> bool:
        """Whether `tensor` streams as one bit per value."""
        return holds_binary_values(self.graph, tensor)

    def _source(self, tensor: str) -> str:
        """The tensor whose stream carries `tensor` (through Flatten, Reshape, Transpose)."""
        node = self.graph.producer(tensor)
        while node is not None and node.op in PASS_THROUGH:
            tensor = node.inputs[0]
            node = self.graph.producer(tensor)
        return tensor

    def _stage_readers(self, tensor: str) -> list[Node]:
        readers = []
        for node in self.graph.consumers(tensor):
            if node.op in PASS_THROUGH:
                readers += self._stage_readers(node.outputs[0])
            elif node.name not in self._fused:
                readers.append(node)
        return readers
