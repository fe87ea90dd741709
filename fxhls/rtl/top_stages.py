"""One stage of the generated RTL top per node of the hardware graph.

`StageBuilder` walks the graph in order and, per node, adds the module instances
that compute it (templates/rtl modules, or a compute layer rendered by
`fxhls.rtl.layers`) and the stream nets between them. Before a stage reads a stream
it gets it in the form the stage takes: regrouped to the stage's lanes
(`fxhls_regroup`) and, for stages that take codes, binarized values as ap_fixed<2,2>
codes (`fxhls_binary_codes`). Each compute layer's output goes through a small FIFO
(the MVU's ready is combinational; the FIFO's is a register). A tensor read by two
stages (a residual block) is forked; the branch to the Add gets a FIFO deep enough
for what the other branch holds (`shortcut_depth`).
"""

from __future__ import annotations

import math
import re

from fxhls.deploy.packing import to_codes
from fxhls.fixed import FixedType, reciprocal
from fxhls.hls.layers.bnn import fused_threshold
from fxhls.ir.graph import Graph, Node
from fxhls.ir.passes.bnn import holds_binary_values

from .folding import RtlParallelism, ordered_foldings, stage_lanes
from .layers import ComputeLayer, compute_layer
from .stages import reciprocal_parameters, type_parameters
from .top_branches import shortcut_depth
from .top_parts import Instance, Stream
from .verilog import packed_codes, packed_literal

PASS_THROUGH = ("Flatten", "Reshape", "Transpose")
OUTPUT_FIFO_DEPTH = 4


class StageBuilder:
    """The instances and streams of a top, built node by node (see the module docstring)."""

    def __init__(self, graph: Graph, prefix: str, target: int, options: RtlParallelism):
        self.graph, self.prefix, self.target, self.options = graph, prefix, target, options
        self.streams: list[Stream] = []
        self.instances: list[Instance] = []
        self.layers: list[ComputeLayer] = []
        self.cycles: dict[str, int] = {}  # stage -> clocks per sample (estimate)
        self._of_tensor: dict[str, Stream] = {}  # tensor -> its stream (per reader, after a fork)
        self._readers: dict[str, list[str]] = {}
        self._fused: set[str] = set()

    # -- streams --------------------------------------------------------------------------
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

    # -- stages ---------------------------------------------------------------------------
    def add_node(self, node: Node) -> None:
        if node.name in self._fused or node.op in PASS_THROUGH:
            if node.op == "Flatten":
                check_flatten(self.graph, node)
            return
        stage = getattr(self, f"_stage_{node.op}", None)
        if stage is None:
            raise ValueError(f"node {node.name!r}: the RTL backend has no stage for op {node.op}; it builds "
                             f"Gemm, Conv (with a fused Threshold), Affine, Relu, Sign, Add, MaxPool, AveragePool, "
                             f"GlobalAveragePool, Quantize, Flatten, Reshape, Transpose")
        stage(node)

    def _identifier(self, node: Node) -> str:
        """A Verilog name for the node's stage (also the module name of a compute layer)."""
        return f"{self.prefix}_{len(self.instances)}_{re.sub(r'[^A-Za-z0-9_]', '_', node.name)}"

    def _stage_Gemm(self, node: Node) -> None:
        threshold = fused_threshold(self.graph, node)
        if threshold is not None:
            self._fused.add(threshold.name)
        out_tensor = (threshold or node).outputs[0]
        name = self._identifier(node)
        error = None
        for simd, pe in ordered_foldings(self.graph, node, self.target, self.options):
            try:
                layer = compute_layer(self.graph, node, simd, pe, threshold, name)
                break
            except ValueError as err:
                error = err
        else:
            raise ValueError(str(error) if node.name in str(error) else f"node {node.name!r}: {error}") from None
        simd = layer.window.simd if layer.window else layer.mvu.simd
        x = self.read(node.inputs[0], node, simd, codes=not layer.mvu.x_binary)
        raw = self.new_stream(name, layer.mvu.pe, layer.mvu.out_bits, threshold is not None)
        out = self.new_stream(name, layer.mvu.pe, layer.mvu.out_bits, threshold is not None)
        out_type = self.graph.tensor(out_tensor).type
        if threshold is None and layer.mvu.out != out_type:
            raise ValueError(f"node {node.name!r}: the RTL layer gives {layer.mvu.out}, the graph says {out_type}")
        self.layers.append(layer)
        self.cycles[name] = layer.cycles_per_sample
        fold = f"SIMD={layer.mvu.simd}, PE={layer.mvu.pe}"
        self.instances.append(Instance(name, name, {}, {"s_axis": x.name, "m_axis": raw.name},
                                       f"{node.op} {node.name}" + (f" + {threshold.name}" if threshold else "") + f", {fold}"))
        self.instances.append(Instance("fxhls_fifo", f"{name}_out", {"W": raw.width, "DEPTH": OUTPUT_FIFO_DEPTH},
                                       {"s_axis": raw.name, "m_axis": out.name}))
        self.publish(out_tensor, out)

    _stage_Conv = _stage_Gemm

    def _elementwise(self, node: Node, module: str, parameters, codes: bool = True, binary_out: bool = False) -> None:
        """A stage of per-lane `module` on the node's image or vector."""
        x_tensor = self.graph.tensor(node.inputs[0])
        channels, values = x_tensor.shape[0], math.prod(x_tensor.shape)
        incoming = self.incoming(node.inputs[0], node)
        lanes = stage_lanes(channels, values, self.target, incoming.lanes)
        x = self.read(node.inputs[0], node, lanes, codes)
        out_type = self.graph.tensor(node.outputs[0]).type
        bits = 1 if binary_out else out_type.width
        out = self.new_stream(node.op.lower(), lanes, bits, binary_out)
        name = self._identifier(node)
        self.cycles[name] = values // lanes
        self.instances.append(Instance(module, name, parameters(lanes, x), {"s_axis": x.name, "m_axis": out.name},
                                       f"{node.op} {node.name}"))
        self.publish(node.outputs[0], out)

    def _types(self, node: Node, x: Stream) -> dict:
        """X and OUT parameters (a binarized input reaches these stages as ap_fixed<2,2> codes)."""
        return {**type_parameters("X", self.graph.tensor(node.inputs[0]).type),
                **type_parameters("OUT", self.graph.tensor(node.outputs[0]).type, True)}

    def _stage_Relu(self, node: Node) -> None:
        self._elementwise(node, "fxhls_relu", lambda lanes, x: {"LANES": lanes, **self._types(node, x)})

    def _stage_Quantize(self, node: Node) -> None:
        if self.graph.producer(node.inputs[0]) is None:
            return  # the input cast: the host sends its codes
        self._elementwise(node, "fxhls_cast_stage", lambda lanes, x: {"LANES": lanes, **self._types(node, x)})

    def _stage_Sign(self, node: Node) -> None:
        x_type = self.graph.tensor(node.inputs[0]).type
        self._elementwise(node, "fxhls_sign", lambda lanes, x: {"LANES": lanes, "X_W": x_type.width,
                                                                "X_SIGNED": int(x_type.signed)},
                          binary_out=True)

    def _stage_Affine(self, node: Node) -> None:
        self._elementwise(node, "fxhls_affine", lambda lanes, x: affine_parameters(self.graph, node, lanes)
                          | self._types(node, x))

    def _stage_MaxPool(self, node: Node) -> None:
        self._pool(node, "max")

    def _stage_AveragePool(self, node: Node) -> None:
        self._pool(node, "avg")

    def _pool(self, node: Node, kind: str) -> None:
        if any(node.attrs.get("pads", ())):
            raise ValueError(f"node {node.name!r}: the RTL pooling unit has no padding, got pads {node.attrs['pads']}")
        channels, height, width = self.graph.tensor(node.inputs[0]).shape
        (kh, kw), (sh, sw) = node.attrs["kernel_shape"], node.attrs["strides"]
        binary = kind == "max" and self.binary(node.inputs[0])

        def parameters(lanes, x):
            types = self._types(node, x)
            if binary:  # the larger bit is the larger value
                types = {"X_W": 1, "X_FRAC": 0, "X_SIGNED": 0, "OUT_W": 1, "OUT_FRAC": 0, "OUT_SIGNED": 0,
                         "OUT_ROUNDING": "AP_TRN", "OUT_OVERFLOW": "AP_WRAP"}
            extra = reciprocal_of(node, kh * kw) if kind == "avg" else {}
            return {"KIND": kind, "C": channels, "SIMD": lanes, "H": height, "W": width, "KH": kh, "KW": kw,
                    "SH": sh, "SW": sw, "ROWS": 1 << kh.bit_length(), **types, **extra}

        out_h, out_w = self.graph.tensor(node.outputs[0]).shape[1:]
        self._pool_stage(node, "fxhls_pool", parameters, out_h * out_w * kh * kw * channels, binary)

    def _stage_GlobalAveragePool(self, node: Node) -> None:
        channels, height, width = self.graph.tensor(node.inputs[0]).shape

        def parameters(lanes, x):
            return {"KIND": "avg", "SIMD": lanes, "GROUPS": channels // lanes, "COUNT": height * width,
                    **self._types(node, x), **reciprocal_of(node, height * width)}

        self._pool_stage(node, "fxhls_reduce", parameters, channels * height * width, False)

    def _pool_stage(self, node: Node, module: str, parameters, clock_values: int, binary: bool) -> None:
        channels = self.graph.tensor(node.inputs[0]).shape[0]
        incoming = self.incoming(node.inputs[0], node)
        lanes = stage_lanes(channels, clock_values, self.target, incoming.lanes)
        x = self.read(node.inputs[0], node, lanes, codes=not binary)
        out_type = self.graph.tensor(node.outputs[0]).type
        out = self.new_stream(node.op.lower(), lanes, 1 if binary else out_type.width, binary)
        name = self._identifier(node)
        self.cycles[name] = clock_values // lanes
        self.instances.append(Instance(module, name, parameters(lanes, x), {"s_axis": x.name, "m_axis": out.name},
                                       f"{node.op} {node.name}"))
        self.publish(node.outputs[0], out)

    def _stage_Add(self, node: Node) -> None:
        a_tensor, b_tensor = (self.graph.tensor(name) for name in node.inputs)
        incoming = self.incoming(node.inputs[0], node)
        values = math.prod(a_tensor.shape)
        lanes = stage_lanes(a_tensor.shape[0], values, self.target, incoming.lanes)
        a = self.read(node.inputs[0], node, lanes, codes=True)
        b = self.read(node.inputs[1], node, lanes, codes=True)
        a_type, b_type = a_tensor.type, b_tensor.type
        out_type = self.graph.tensor(node.outputs[0]).type
        out = self.new_stream("add", lanes, out_type.width)
        name = self._identifier(node)
        self.cycles[name] = values // lanes
        parameters = {"LANES": lanes, **type_parameters("A", a_type), **type_parameters("B", b_type),
                      **type_parameters("OUT", out_type, True)}
        self.instances.append(Instance("fxhls_add", name, parameters,
                                       {"s0_axis": a.name, "s1_axis": b.name, "m_axis": out.name},
                                       f"Add {node.name}"))
        self.publish(node.outputs[0], out)

    def _stage_Threshold(self, node: Node) -> None:
        raise ValueError(f"node {node.name!r}: a Threshold the RTL backend cannot fuse into its binary layer "
                         f"(it must read a bias-free binary Gemm/Conv output read by nothing else)")


def affine_parameters(graph: Graph, node: Node, lanes: int) -> dict:
    """`fxhls_affine`'s constants for Affine `node`: K-hot terms or multiplier codes, biases."""
    scale, shift = graph.tensor(node.inputs[1]), graph.tensor(node.inputs[2])
    channels = scale.data.numel()
    parameters = {"C": channels, "LANES": lanes, **type_parameters("BIAS", shift.type),
                  "BIASES": packed_literal(codes_of(shift.data, shift.type), shift.type.width)}
    if "terms" in scale.facts:
        signs, exponents = scale.facts["terms"]
        used = signs != 0
        lowest = int(exponents[used].min()) if bool(used.any()) else 0
        shift_w = max(1, int((exponents - lowest).clamp(min=0)[used].max()).bit_length()) if bool(used.any()) else 1
        terms = [(1 << (shift_w + 1)) | (int(s < 0) << shift_w) | (int(e) - lowest) if s else 0
                 for s, e in zip(signs.flatten().tolist(), exponents.flatten().tolist())]
        return parameters | {"KIND": "khot", "SCALE_FRAC": -lowest, "K": signs.shape[-1], "SHIFT_W": shift_w,
                             "TERMS": f"{len(terms) * (shift_w + 2)}'h{packed_codes(terms, shift_w + 2):x}"}
    return parameters | {"KIND": "mul", **type_parameters("SCALE", scale.type),
                         "SCALES": packed_literal(codes_of(scale.data, scale.type), scale.type.width)}


def codes_of(values, t: FixedType) -> list[int]:
    """The ap_fixed codes of exact values of type `t` (refused when off its grid)."""
    return to_codes(values.flatten().numpy(), t.frac_bits).tolist()


def reciprocal_of(node: Node, count: int) -> dict:
    """The pooling unit's 1/count parameters, as the IR's op multiplies by it."""
    if "reciprocal_type" in node.attrs:
        return reciprocal_parameters(reciprocal(count, FixedType.parse(node.attrs["reciprocal_type"])))
    if count & (count - 1):
        raise ValueError(f"node {node.name!r}: averaging {count} values needs a reciprocal_type (1/{count} is "
                         f"not a power of two)")
    return reciprocal_parameters(1.0 / count)


def check_flatten(graph: Graph, node: Node) -> None:
    """A Flatten moves no data in stream order unless it flattens an image of several
    pixels: then only Gemm layers (maybe through Relu, Sign, casts) may read it, as they
    take its values pixel by pixel."""
    shape = graph.tensor(node.inputs[0]).shape
    if len(shape) != 3 or shape[1] * shape[2] == 1:
        return
    pending = [node.outputs[0]]
    while pending:
        tensor = pending.pop()
        if tensor in graph.outputs:
            raise ValueError(f"node {node.name!r}: the output is a flattened {tuple(shape)} image, which the RTL "
                             f"streams pixel by pixel, not in ONNX order")
        for reader in graph.consumers(tensor):
            if reader.op in ("Relu", "Sign", "Quantize", *PASS_THROUGH):
                pending.append(reader.outputs[0])
            elif reader.op != "Gemm":
                raise ValueError(f"node {node.name!r}: {reader.op} {reader.name!r} reads a flattened {tuple(shape)} "
                                 f"image, which the RTL streams pixel by pixel; only Gemm layers may")
