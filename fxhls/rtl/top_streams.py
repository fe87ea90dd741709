"""The stream nets of a generated RTL top: which stream carries each tensor to each reader.

A stage reads a stream in the form it takes: regrouped to its lanes (`fxhls_regroup`)
and, for stages that take codes, binarized values (one bit, 1 = +1) as ap_fixed<2,2>
codes (`fxhls_binary_codes`). A tensor read by several stages is forked (a chain of
two-way `fxhls_fork`s); every branch but the one that holds the most beats back gets a
FIFO deep enough for what the branches hold until they meet again
(`fxhls.rtl.top_branches`). Flatten, Reshape and Transpose pass their input's stream
on, except a Flatten of a multi-pixel image that reaches the output or a stage other than
a Gemm with an exact accumulator (which takes the image pixel by pixel): it reorders the
values to ONNX's order (`fxhls_flatten`).
"""

from __future__ import annotations

from fxhls.deploy.packing import stream_image
from fxhls.ir.graph import Graph, Node
from fxhls.ir.passes.bnn import holds_binary_values

from .top_branches import branch_fifo_depths
from .top_parts import Instance, Stream

PASS_THROUGH = ("Flatten", "Reshape", "Transpose")
VALUE_WISE = ("Relu", "Sign", "Quantize")


def flatten_reorders(graph: Graph, node: Node) -> bool:
    """Whether Flatten `node` needs a stage that reorders an image streamed pixel by pixel
    into ONNX's (C, H, W) order: its values reach, through value-wise ops, the output, a
    reader other than a Gemm, or a Gemm with a narrowed accumulator (a rounding or
    saturating sum depends on the order; a plain Gemm takes its weight columns in the
    stream's order instead)."""
    image = stream_image(graph.tensor(node.inputs[0]).shape)
    if node.op != "Flatten" or image is None or image[1] * image[2] == 1:
        return False
    pending = [node.outputs[0]]
    while pending:
        tensor = pending.pop()
        if tensor in graph.outputs:
            return True
        for reader in graph.consumers(tensor):
            if reader.op in (*VALUE_WISE, *PASS_THROUGH):
                pending.append(reader.outputs[0])
            elif reader.op != "Gemm" or "acc_type" in reader.attrs:
                return True
    return False


def _branch_key(tensor: str, reader: Node, occurrence: int) -> str:
    """The key of the fork branch of `tensor` to `reader` (its `occurrence`-th reading)."""
    return f"{tensor}@{reader.name}" + (f"#{occurrence}" if occurrence else "")


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
        """`stream` carries `tensor`; fork it when several stages read it: a chain of
        two-way forks, each branch with the FIFO `branch_fifo_depths` asks for."""
        readers = self._stage_readers(tensor)
        if len(readers) < 2:
            self._of_tensor[tensor] = stream
            return
        depths = branch_fifo_depths(self.graph, tensor, readers, stream.lanes)
        rest = stream
        for index, reader in enumerate(readers):
            source = branch = rest
            if index < len(readers) - 1:
                name = f"fork_{len(self.instances)}"
                branch = self.new_stream(name, stream.lanes, stream.bits, stream.binary)
                rest = self.new_stream(name, stream.lanes, stream.bits, stream.binary)
                self.instances.append(Instance("fxhls_fork", name, {"W": stream.width},
                                               {"s_axis": source.name,
                                                "m0_axis": branch.name, "m1_axis": rest.name},
                                               f"{tensor}: to {reader.name} and the other readers"))
            if depths[index]:
                queued = self.new_stream(f"branch_{len(self.instances)}", stream.lanes, stream.bits, stream.binary)
                self.instances.append(Instance("fxhls_fifo", f"branch_{len(self.instances)}",
                                               {"W": stream.width, "DEPTH": depths[index]},
                                               {"s_axis": branch.name, "m_axis": queued.name},
                                               f"the branch of {tensor} to {reader.name}, {depths[index]} beats"))
                branch = queued
            self._of_tensor[_branch_key(tensor, reader, readers[:index].count(reader))] = branch

    def read(self, tensor: str, reader: Node | None, lanes: int, codes: bool, port: int = 0) -> Stream:
        """The stream of `tensor` as `reader` takes it at its input `port`: `lanes` per
        beat, binarized values as codes when `codes`."""
        stream = self.incoming(tensor, reader, port)
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

    def incoming(self, tensor: str, reader: Node | None, port: int = 0) -> Stream:
        """The stream that brings `tensor` to input `port` of `reader` (its branch, after a
        fork; a reader of one tensor at two inputs has a branch for each; None: the top's
        output)."""
        source = self._source(tensor)
        if reader is None:
            return self._of_tensor[source]
        before = [self._source(name) for name in reader.inputs[:port]].count(source)
        return self._of_tensor.get(_branch_key(source, reader, before)) or self._of_tensor[source]

    def binary(self, tensor: str) -> bool:
        """Whether `tensor` streams as one bit per value."""
        return holds_binary_values(self.graph, tensor)

    def moves_nothing(self, node: Node) -> bool:
        """Whether `node` gets no stage as it moves no value in stream order."""
        return node.op in PASS_THROUGH and not flatten_reorders(self.graph, node)

    def _source(self, tensor: str) -> str:
        """The tensor whose stream carries `tensor` (through Flatten, Reshape, Transpose)."""
        node = self.graph.producer(tensor)
        while node is not None and self.moves_nothing(node):
            tensor = node.inputs[0]
            node = self.graph.producer(tensor)
        return tensor

    def _stage_readers(self, tensor: str) -> list[Node]:
        readers = []
        for node in self.graph.consumers(tensor):
            if self.moves_nothing(node):
                readers += self._stage_readers(node.outputs[0])
            elif node.name not in self._fused:
                readers += [node] * node.inputs.count(tensor)
        return readers
