"""One stage of the generated RTL top per node of the hardware graph.

`StageBuilder` walks the graph in order and, per node, adds the module instances
that compute it (templates/rtl modules, or a compute layer rendered by
`fxhls.rtl.layers`) and the streams between them (`fxhls.rtl.top_streams`). Each
compute layer's output goes through a small FIFO (the MVU's ready is combinational;
the FIFO's is a register). The input cast has no stage (the host sends its codes),
nor has a Threshold that its binary layer computes.
"""

from __future__ import annotations

import math

from fxhls.hls.layers.bnn import fused_threshold
from fxhls.hls.layers.prelu import channel_slopes
from fxhls.fixed.table_grid import Truncation
from fxhls.hls.layers.table import rom_entries
from fxhls.identifiers import identifier
from fxhls.ir.graph import Graph, Node
from fxhls.ir.ops.windows import window_pads

from .folding import RtlParallelism, fold_set_by, layer_knob, stage_lanes
from .layers import ComputeLayer, folded_layer
from .stage_rows import stage_row
from .stages import type_parameters
from .top_parameters import (affine_parameters, codes_of, mul_shift_parameters, multithreshold_parameters,
                             reciprocal_of, scale_parameters, softmax_parameters, threshold_parameters)
from .top_parts import Instance, Stream
from .verilog import packed_literal
from .windows import line_buffer_rows
from .top_streams import StreamNetwork

OUTPUT_FIFO_DEPTH = 4


class StageBuilder(StreamNetwork):
    """The stages of a top, added node by node (see the module docstring)."""

    def __init__(self, graph: Graph, prefix: str, target: int, options: RtlParallelism, lut_levels: int | None = None):
        super().__init__(graph)
        self.prefix, self.target, self.options = prefix, target, options
        self.lut_levels = lut_levels  # a clock's LUT levels, which compute layers pipeline to keep within
        self.layers: list[ComputeLayer] = []
        self.cycles: dict[str, int] = {}  # stage -> clocks per sample (estimate)
        self.rows: list[dict] = []  # stage_row of each stage

    def _describe(self, node: Node, name: str, folding: str, clocks: int, **more) -> None:
        """Record stage `name`'s clocks per sample and its row (`stage_row`)."""
        self.cycles[name] = clocks
        self.rows.append(stage_row(self.graph, node, name, folding, clocks, **more))

    def add_node(self, node: Node) -> None:
        if node.name in self._fused or self.moves_nothing(node):
            return
        stage = getattr(self, f"_stage_{node.op}", None)
        if stage is None:
            raise ValueError(f"node {node.name!r}: the RTL backend has no stage for op {node.op}; it builds "
                             f"Gemm, Conv, Threshold, Affine, MultiThreshold, MulShift, Relu, Sign, Add, MaxPool, "
                             f"AveragePool, GlobalAveragePool, Quantize, Flatten, Reshape, Transpose, Table, Concat, "
                             f"PRelu, Upsample, Softmax, ArgMax")
        stage(node)

    def _identifier(self, node: Node) -> str:
        """A Verilog name for the node's stage (also the module name and file name of a
        compute layer): the top's name, a counter and the node's name as an identifier."""
        return f"{self.prefix}_{len(self.instances)}_{identifier(node.name)}"

    def _stage_Gemm(self, node: Node) -> None:
        threshold = fused_threshold(self.graph, node)
        if threshold is not None:
            self._fused.add(threshold.name)
        out_tensor = (threshold or node).outputs[0]
        name = self._identifier(node)
        _, layer = folded_layer(self.graph, node, self.target, self.options, threshold, name, self.lut_levels)
        simd = layer.window.simd if layer.window else layer.mvu.simd
        x = self.read(node.inputs[0], node, simd, codes=not layer.mvu.x_binary)
        raw = self.new_stream(name, layer.mvu.pe, layer.mvu.out_bits, threshold is not None)
        out = self.new_stream(name, layer.mvu.pe, layer.mvu.out_bits, threshold is not None)
        out_type = self.graph.tensor(out_tensor).type
        if threshold is None and layer.mvu.out != out_type:
            raise ValueError(f"node {node.name!r}: the RTL layer gives {layer.mvu.out}, the graph says {out_type}")
        self.layers.append(layer)
        fold = f"SIMD={layer.mvu.simd}, PE={layer.mvu.pe}"
        self._describe(node, name, fold, layer.cycles_per_sample, layer=layer, fused=threshold,
                       set_by=fold_set_by(layer_knob(self.options, node.name), self.options.target_fps))
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
        self._describe(node, name, f"LANES={lanes}", values // lanes)
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

    def _stage_Table(self, node: Node) -> None:
        x_type, out_type = (self.graph.tensor(name).type for name in (node.inputs[0], node.outputs[0]))
        entries = codes_of(rom_entries(node, x_type), out_type)
        cut = Truncation.from_attrs(node.attrs)
        truncated = {} if cut is None else {"TRUNCATED": 1, "LOW": packed_literal([cut.low], x_type.width + 2),
                                            "HIGH": packed_literal([cut.high], x_type.width + 2),
                                            "DROP": cut.drop_bits}
        self._elementwise(node, "fxhls_table", lambda lanes, x: {"LANES": lanes, "X_W": x_type.width,
                                                                 "X_SIGNED": int(x_type.signed),
                                                                 "OUT_W": out_type.width, "N": len(entries),
                                                                 **truncated,
                                                                 "ENTRIES": packed_literal(entries, out_type.width)})

    def _stage_Softmax(self, node: Node) -> None:
        x = self.graph.tensor(node.inputs[0])
        self._per_pixel(node, "fxhls_softmax", softmax_parameters(node, x.type, x.shape[0]))

    def _stage_ArgMax(self, node: Node) -> None:
        x_type, out_type = (self.graph.tensor(name).type for name in (node.inputs[0], node.outputs[0]))
        self._per_pixel(node, "fxhls_argmax", {"X_W": x_type.width, "X_SIGNED": int(x_type.signed),
                                               "OUT_W": out_type.width})

    def _per_pixel(self, node: Node, module: str, parameters: dict) -> None:
        """A stage that takes each pixel's C values in one beat (a vector: all of them)."""
        channels, *pixels = self.graph.tensor(node.inputs[0]).shape
        out_tensor = self.graph.tensor(node.outputs[0])
        x = self.read(node.inputs[0], node, channels, codes=True)
        out = self.new_stream(node.op.lower(), out_tensor.shape[0], out_tensor.type.width)
        name = self._identifier(node)
        self._describe(node, name, f"LANES={channels}", math.prod(pixels))
        self.instances.append(Instance(module, name, {"C": channels, **parameters},
                                       {"s_axis": x.name, "m_axis": out.name}, f"{node.op} {node.name}"))
        self.publish(node.outputs[0], out)

    def _stage_Affine(self, node: Node) -> None:
        self._elementwise(node, "fxhls_affine", lambda lanes, x: affine_parameters(self.graph, node, lanes)
                          | self._types(node, x))

    def _stage_PRelu(self, node: Node) -> None:
        slopes, terms = channel_slopes(self.graph, node)
        slope_type = self.graph.tensor(node.inputs[1]).type
        self._elementwise(node, "fxhls_prelu", lambda lanes, x: {"C": len(slopes), "LANES": lanes}
                          | scale_parameters(slopes, slope_type, terms) | self._types(node, x))

    def _stage_Upsample(self, node: Node) -> None:
        """Upsample (`fxhls_upsample`): its input's values, codes or bits, repeated."""
        channels, height, width = self.graph.tensor(node.inputs[0]).shape
        scale_h, scale_w = node.attrs["scales"]
        values = channels * height * scale_h * width * scale_w
        incoming = self.incoming(node.inputs[0], node)
        lanes = stage_lanes(channels, values, self.target, incoming.lanes)
        x = self.read(node.inputs[0], node, lanes, codes=False)
        out = self.new_stream("upsample", lanes, x.bits, x.binary)
        name = self._identifier(node)
        self._describe(node, name, f"LANES={lanes}", values // lanes)
        parameters = {"C": channels, "LANES": lanes, "W": width, "SH": scale_h, "SW": scale_w, "X_W": x.bits}
        self.instances.append(Instance("fxhls_upsample", name, parameters, {"s_axis": x.name, "m_axis": out.name},
                                       f"Upsample {node.name}"))
        self.publish(node.outputs[0], out)

    def _stage_MultiThreshold(self, node: Node) -> None:
        self._elementwise(node, "fxhls_multithreshold",
                          lambda lanes, x: multithreshold_parameters(self.graph, node, lanes))

    def _stage_MulShift(self, node: Node) -> None:
        self._elementwise(node, "fxhls_mul_shift", lambda lanes, x: mul_shift_parameters(self.graph, node, lanes))

    def _stage_MaxPool(self, node: Node) -> None:
        self._pool(node, "max")

    def _stage_AveragePool(self, node: Node) -> None:
        self._pool(node, "avg")

    def _pool(self, node: Node, kind: str) -> None:
        channels, height, width = self.graph.tensor(node.inputs[0]).shape
        (kh, kw), (sh, sw), (ph, pw) = node.attrs["kernel_shape"], node.attrs["strides"], window_pads(node)
        binary = kind == "max" and self.binary(node.inputs[0]) and not (ph or pw)  # one bit has no zero to pad with

        def parameters(lanes, x):
            types = self._types(node, x)
            if binary:  # the larger bit is the larger value
                types = {"X_W": 1, "X_FRAC": 0, "X_SIGNED": 0, "OUT_W": 1, "OUT_FRAC": 0, "OUT_SIGNED": 0,
                         "OUT_ROUNDING": "AP_TRN", "OUT_OVERFLOW": "AP_WRAP"}
            extra = reciprocal_of(node, kh * kw) if kind == "avg" else {}
            return {"KIND": kind, "C": channels, "SIMD": lanes, "H": height, "W": width, "KH": kh, "KW": kw,
                    "SH": sh, "SW": sw, "PH": ph, "PW": pw, "ROWS": line_buffer_rows(height, kh, sh, ph), **types,
                    **extra}

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
        self._describe(node, name, f"LANES={lanes}", clock_values // lanes)
        self.instances.append(Instance(module, name, parameters(lanes, x), {"s_axis": x.name, "m_axis": out.name},
                                       f"{node.op} {node.name}"))
        self.publish(node.outputs[0], out)

    def _stage_Add(self, node: Node) -> None:
        a_tensor, b_tensor = (self.graph.tensor(name) for name in node.inputs)
        incoming = self.incoming(node.inputs[0], node)
        values = math.prod(a_tensor.shape)
        lanes = stage_lanes(a_tensor.shape[0], values, self.target, incoming.lanes)
        a = self.read(node.inputs[0], node, lanes, codes=True)
        b = self.read(node.inputs[1], node, lanes, codes=True, port=1)
        a_type, b_type = a_tensor.type, b_tensor.type
        out_type = self.graph.tensor(node.outputs[0]).type
        out = self.new_stream("add", lanes, out_type.width)
        name = self._identifier(node)
        self._describe(node, name, f"LANES={lanes}", values // lanes)
        parameters = {"LANES": lanes, **type_parameters("A", a_type), **type_parameters("B", b_type),
                      **type_parameters("OUT", out_type, True)}
        self.instances.append(Instance("fxhls_add", name, parameters,
                                       {"s0_axis": a.name, "s1_axis": b.name, "m_axis": out.name},
                                       f"Add {node.name}"))
        self.publish(node.outputs[0], out)

    def _stage_Concat(self, node: Node) -> None:
        """A Concat of two tensors on the channel axis (`fxhls.ir.passes.split_concat`):
        each read a pixel per beat (binarized values stay bits when both are)."""
        shapes = [self.graph.tensor(name).shape for name in node.inputs]
        if len(node.inputs) != 2 or node.attrs["axis"] != 0:
            raise ValueError(f"node {node.name!r}: the RTL Concat joins two tensors on the channel axis, got "
                             f"{len(node.inputs)} on axis {node.attrs['axis']}; run "
                             f"fxhls.ir.passes.lower_for_hardware first")
        binary = all(self.binary(name) for name in node.inputs)
        a, b = (self.read(name, node, shape[0], codes=not binary, port=port)
                for port, (name, shape) in enumerate(zip(node.inputs, shapes)))
        a_type, b_type, out_type = (self.graph.tensor(name).type for name in (*node.inputs, node.outputs[0]))
        types = {**type_parameters("A", a_type), **type_parameters("B", b_type), **type_parameters("OUT", out_type)}
        if binary:  # one bit per value, 1 meaning +1, on both sides
            types = {f"{role}_{key}": value for role in ("A", "B", "OUT") for key, value in
                     (("W", 1), ("FRAC", 0), ("SIGNED", 0))}
        lanes = a.lanes + b.lanes
        out = self.new_stream("concat", lanes, 1 if binary else out_type.width, binary)
        name = self._identifier(node)
        self._describe(node, name, f"LANES={lanes}", math.prod(shapes[0][1:]))
        self.instances.append(Instance("fxhls_concat", name, {"A_LANES": a.lanes, "B_LANES": b.lanes, **types},
                                       {"s0_axis": a.name, "s1_axis": b.name, "m_axis": out.name},
                                       f"Concat {node.name}"))
        self.publish(node.outputs[0], out)

    def _stage_Flatten(self, node: Node) -> None:
        """A Flatten that reorders (`flatten_reorders`): one value per beat in and out."""
        channels, height, width = self.graph.tensor(node.inputs[0]).shape
        x = self.read(node.inputs[0], node, 1, codes=False)
        out = self.new_stream("flatten", 1, x.bits, x.binary)
        name = self._identifier(node)
        self._describe(node, name, "LANES=1", channels * height * width)
        self.instances.append(Instance("fxhls_flatten", name, {"C": channels, "PIXELS": height * width, "X_W": x.bits},
                                       {"s_axis": x.name, "m_axis": out.name}, f"Flatten {node.name}"))
        self.publish(node.outputs[0], out)

    def _stage_Threshold(self, node: Node) -> None:
        """A Threshold no binary layer computes (`fxhls_threshold`)."""
        self._elementwise(node, "fxhls_threshold", lambda lanes, x: threshold_parameters(self.graph, node, lanes),
                          binary_out=True)
