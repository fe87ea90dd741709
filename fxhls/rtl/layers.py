"""The compute layers of the RTL backend: a Gemm is an `fxhls_mvu`, a Conv an
`fxhls_window` feeding one; each with its weights and per-neuron constants in ROMs
rendered for the layer (templates/rtl/compute/layer.v.j2).

Streams between layers: a beat holds lanes of codes, lane i at bits [i*w, (i+1)*w);
a binarized tensor (-1/+1, from a Sign or Threshold) has one bit per value, 1 for +1.
A layer takes SIMD values per input beat and gives PE values per output beat.

A convolution's SIMD is its window's beat: TAPS kernel positions of SIMD_C channels
each (`fxhls.rtl.windows.window_lanes`: SIMD_C = gcd(SIMD, C), TAPS = SIMD / SIMD_C,
which must divide KH * KW), so SIMD = KH * KW * C takes a whole window per clock; its
input takes SIMD_C channels per beat.

Clocks (steady state, samples back to back, no back-pressure; measured equal in
tests/test_rtl_compute_*.py): a dense layer takes SF * NF clocks per vector
(SF = in_features / SIMD, NF = out_features / PE), its output 3 clocks after the
last fold, plus one per pipeline register of its dot product (`MvuConfig.dot_registers`); a convolution max(OH * OW * SF * NF, H * W * C / SIMD_C) clocks per image
(SF = KH * KW * C / SIMD): the MVU's clocks per window, or the input's beats when
the window generator waits longer for them (large strides, or a window per clock).
A chain of layers runs at the pace of its slowest layer: FPS = clock / max(cycles_per_sample).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fxhls.deploy.packing import stream_image
from fxhls.fixed import FixedType, accumulator_type
from fxhls.ir.graph import Graph, Node
from fxhls.ir.ops.windows import conv_out_size
from fxhls.ir.passes.bnn import holds_binary_values
from fxhls.templating import render

from .library import library_sources
from .top_streams import flatten_reorders
from .verilog import literal, sized_literals
from .windows import line_buffer_rows, window_lanes
from .costs import mvu_dot_stage
from .folding import (LayerKnob, RtlParallelism, allowed_foldings, check_knob, fold_set_by, layer_knob,
                      ordered_foldings)
from .compute import MvuConfig, WeightLanes, binary_lanes, khot_lanes, multiplier_lanes, mvu_config

MODULES = ("fxhls_mvu", "fxhls_window")


@dataclass(frozen=True)
class WindowConfig:
    """`fxhls_window`'s parameters: a (channels, height, width) image, SIMD channels per
    input beat, TAPS kernel positions of SIMD channels per output beat."""

    channels: int
    height: int
    width: int
    kernel: tuple[int, int]
    strides: tuple[int, int]
    pads: tuple[int, int]
    simd: int
    x_bits: int
    pad_flag: bool
    channel_major: bool
    taps: int = 1

    @property
    def rows(self) -> int:
        """Line buffer rows (`fxhls.rtl.windows.line_buffer_rows`)."""
        return line_buffer_rows(self.height, self.kernel[0], self.strides[0], self.pads[0])

    @property
    def out_size(self) -> tuple[int, int]:
        return tuple(conv_out_size(n, k, s, p) for n, k, s, p in
                     zip((self.height, self.width), self.kernel, self.strides, self.pads))

    def parameters(self) -> dict[str, int]:
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.strides, self.pads
        return {"C": self.channels, "SIMD": self.simd, "X_W": self.x_bits, "H": self.height, "W": self.width,
                "KH": kh, "KW": kw, "SH": sh, "SW": sw, "PH": ph, "PW": pw, "ROWS": self.rows,
                "TAPS": self.taps, "CHANNEL_MAJOR": int(self.channel_major), "PAD_FLAG": int(self.pad_flag)}


@dataclass(frozen=True)
class ComputeLayer:
    """One Gemm or Conv (with its Threshold, if fused) as RTL."""

    name: str
    mvu: MvuConfig
    window: WindowConfig | None = None

    @property
    def in_bits(self) -> int:
        """Bits of an input beat: SIMD values (a convolution's: SIMD_C channels)."""
        return self.mvu.in_bits if self.window is None else self.window.simd * self.window.x_bits

    @property
    def out_bits(self) -> int:
        """Bits of an output beat: PE values."""
        return self.mvu.pe * self.mvu.out_bits

    @property
    def cycles_per_sample(self) -> int:
        """Clocks per input sample in steady state: SF*NF per MVU vector (one per output
        pixel of a convolution), or the input's beats when the window generator waits
        for them longer (a large stride)."""
        if self.window is None:
            return self.mvu.cycles_per_vector
        out_h, out_w = self.window.out_size
        in_beats = self.window.height * self.window.width * self.window.channels // self.window.simd
        return max(out_h * out_w * self.mvu.cycles_per_vector, in_beats)

    def render(self) -> str:
        """The Verilog of this layer: its ROMs and its top module `name` (the library
        modules of `compute_sources()` are instantiated, not included)."""
        what = "convolution" if self.window else "dense layer"
        return render("rtl/compute/layer.v.j2", layer=self, mvu=self.mvu, window=self.window,
                      mvu_parameters=_literals(self.mvu.parameters()),
                      weight_literals=_words(self.mvu.weight_words, self.mvu.weight_word_bits),
                      neuron_literals=_words(self.mvu.neuron_words, self.mvu.neuron_word_bits),
                      description=f"{self.name}: {what}, {self.mvu.lanes.kind} weights, SIMD={self.mvu.simd}, "
                                  f"PE={self.mvu.pe}, {self.cycles_per_sample} clocks per sample")


def compute_sources() -> list[Path]:
    """The library modules (templates/rtl/*.v) that compute layers instantiate."""
    return library_sources(*MODULES)


def folded_layer(graph: Graph, node: Node, target: int, options: RtlParallelism | None = None,
                 threshold: Node | None = None, name: str | None = None,
                 lut_levels: int | None = None) -> tuple[tuple[int, int], ComputeLayer]:
    """((SIMD, PE), layer): `compute_layer` at the first fold of `ordered_foldings` that it
    builds (a narrowed accumulator takes SIMD 1, padding flags an equal share of lanes): the
    fold of `node` for `target` clocks per sample, in the RTL and for K-hot and binary
    layers in the HLS backend alike. The last refusal where it builds none."""
    error, options = None, options or RtlParallelism()
    for simd, pe in ordered_foldings(graph, node, target, options):
        try:
            return (simd, pe), compute_layer(graph, node, simd, pe, threshold, name, lut_levels)
        except ValueError as err:
            error = err
    reason = str(error) if node.name in str(error) else f"node {node.name!r}: {error}"
    knob = layer_knob(options, node.name)
    if knob is not None:
        asked = f"SIMD x PE {knob.fold[0]} x {knob.fold[1]}" if knob.fold else f"reuse factor {knob.reuse}"
        raise ValueError(f"layer {node.name!r}: the RTL builds no fold for its {asked} "
                         f"({fold_set_by(knob, None)}): {reason}")
    raise ValueError(reason)


def knob_fold(graph: Graph, node: Node, knob: LayerKnob, label: str | None = None) -> tuple[int, int]:
    """The (SIMD, PE) a user's knob gives Gemm or Conv `node` in both backends: the fold
    given, or the least parallel within the reuse factor given that the RTL builds
    (`folded_layer`; where it builds none, the least parallel: the RTL refuses the layer,
    and says why, when it writes the top). A one-line ValueError naming layer `label`
    where the knob is no fold of it (`check_knob`)."""
    check_knob(graph, node, knob, label)
    options = RtlParallelism(layers={node.name: knob.fold}) if knob.fold else RtlParallelism(reuse={node.name: knob.reuse})
    try:
        return folded_layer(graph, node, 0, options)[0]
    except ValueError:
        return allowed_foldings(graph, node, options)[0]


def compute_layer(graph: Graph, node: Node, simd: int, pe: int, threshold: Node | None = None,
                  name: str | None = None, lut_levels: int | None = None,
                  dot_stage: int | None = None) -> ComputeLayer:
    """The RTL of Gemm or Conv `node` folded by `simd` and `pe`; with `threshold` (the
    Threshold node reading its output) the layer outputs that node's bits. Its dot
    product is pipelined to keep within `lut_levels` LUT levels a clock
    (`fxhls.rtl.costs.dot_stage`; None: not pipelined), or as `dot_stage` says when given
    (the adder levels between its registers, `mvu_config`)."""
    if node.op not in ("Gemm", "Conv"):
        raise ValueError(f"node {node.name!r}: compute layers are Gemm and Conv, not {node.op}")
    if threshold is not None and (threshold.op != "Threshold" or threshold.inputs[0] != node.outputs[0]):
        raise ValueError(f"node {threshold.name!r} is no Threshold reading the output of {node.name!r}")
    name = name or node.name
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"node {node.name!r}: {name!r} is no Verilog module name (letters, digits, _)")
    x = graph.tensor(node.inputs[0])
    weights = graph.tensor(node.inputs[1])
    bias = graph.tensor(node.inputs[2]) if len(node.inputs) > 2 else None
    x_binary = holds_binary_values(graph, node.inputs[0])
    groups = node.attrs.get("groups", 1)
    if groups != 1 and weights.facts.get("binary"):
        raise ValueError(f"node {node.name!r}: a grouped Conv (groups={groups}) with binary weights has no RTL "
                         f"layer (the MVU reads zero weights outside each group; binary weights have no zero)")
    lanes = _lanes(weights, x_binary, groups=groups)
    acc, stepwise = _accumulator(node, x.type, weights, bias, lanes, x_binary)
    order, window = None, None
    if node.op == "Conv":
        channels, height, width = x.shape
        kernel = tuple(weights.shape[2:])
        split = window_lanes(simd, channels, math.prod(kernel))
        if split is None:
            raise ValueError(f"node {node.name!r}: SIMD={simd} is neither a divisor of the {channels} channels nor "
                             f"those channels times a divisor of the {kernel[0]}x{kernel[1]} kernel's positions")
        lanes_c, taps = split
        channel_major = stepwise  # a rounding or saturating sum goes in the IR's order
        window = WindowConfig(channels, height, width, kernel, tuple(node.attrs["strides"]),
                              tuple(node.attrs["pads"]), lanes_c, 1 if x_binary else x.type.width,
                              x_binary and any(node.attrs["pads"]), channel_major, taps)
        _check_window(node, window)
        order = _column_order(channels, *window.kernel, channel_major, lanes_c, taps)
    elif (image := _flattened_image(graph, node.inputs[0])) is not None:
        if stepwise:
            raise ValueError(f"node {node.name!r}: its input is a flattened {image} image, which streams pixel by "
                             f"pixel; the accumulator {acc} rounds or saturates, so it needs the IR's order")
        order = _column_order(*image, channel_major=False)
    if order is not None:
        lanes = _lanes(weights, x_binary, order, groups)
    out = None if threshold is not None else FixedType.parse(node.attrs.get("out_type", acc))
    thresholds = None
    if threshold is not None:
        thresholds = (graph.tensor(threshold.inputs[1]).data, list(threshold.attrs["direction"]))
    config = mvu_config(None if x_binary else x.type, lanes, None if bias is None else bias.data, acc, stepwise,
                        out, simd, pe, thresholds, x_pad=window.taps if window is not None and window.pad_flag else 0,
                        dot_stage=dot_stage or 0)
    if dot_stage is None and lut_levels is not None:
        config = dataclasses.replace(config, dot_stage=mvu_dot_stage(config, lut_levels))
    return ComputeLayer(name, config, window)


def _lanes(weights, x_binary: bool, order: np.ndarray | None = None, groups: int = 1) -> WeightLanes:
    """The weights as an (O, in_features) matrix, columns in `order`, in their ROM form;
    a grouped Conv's as a dense one's (`_dense_groups`)."""
    def columns(t: np.ndarray) -> np.ndarray:
        t = _dense_groups(t, groups)
        matrix = t.reshape(t.shape[0], math.prod(t.shape[1:len(weights.shape)]), *t.shape[len(weights.shape):])
        return matrix if order is None else matrix[:, order]

    if weights.facts.get("binary"):
        return binary_lanes(columns(weights.data), x_binary)
    if "terms" in weights.facts:
        signs, exponents = weights.facts["terms"]
        return khot_lanes(columns(signs), columns(exponents))
    return multiplier_lanes(columns(weights.data), weights.type)


def _dense_groups(t: np.ndarray, groups: int) -> np.ndarray:
    """A grouped Conv's weights (or K-hot terms) (O, C / groups, KH, KW, ...) as a dense
    Conv's (O, C, KH, KW, ...): zero outside each output's group, so the MVU, reading
    the whole window, sums exactly its group's products (the zero products add nothing)."""
    if groups == 1:
        return t
    outs, ins = t.shape[0] // groups, t.shape[1]
    dense = np.zeros((t.shape[0], ins * groups, *t.shape[2:]), dtype=t.dtype)
    for g in range(groups):
        dense[g * outs:(g + 1) * outs, g * ins:(g + 1) * ins] = t[g * outs:(g + 1) * outs]
    return dense


def _accumulator(node, x_type, weights, bias, lanes: WeightLanes, x_binary: bool) -> tuple[FixedType, bool]:
    """(accumulator, stepwise): a narrowed `acc_type` is stepwise unless it wraps and never
    rounds (then its sum is modular, in any order); the exact one never is."""
    if "acc_type" in node.attrs:
        acc = FixedType.parse(node.attrs["acc_type"])
        x_frac = 0 if x_binary else x_type.frac_bits
        return acc, not (acc.overflow == "AP_WRAP" and acc.frac_bits >= x_frac + lanes.frac)
    fan_in = math.prod(weights.shape[1:])
    return accumulator_type(x_type, weights.type, fan_in, None if bias is None else bias.type), False


def _column_order(channels: int, rows: int, columns: int, channel_major: bool, lanes: int | None = None,
                  taps: int = 1) -> np.ndarray:
    """For each value of a (channels, rows, columns) block in the order it streams, its
    index in the IR's (channel, row, column) order: with `channel_major` the IR's order;
    else by groups of `taps` positions (row, column), each group in `lanes`-channel
    beats, each beat its taps' channels (fxhls_window's order; with one tap, or all
    channels in a beat, pixel by pixel with the channels together)."""
    lanes = lanes or channels
    ir_index = np.arange(channels * rows * columns).reshape(channels // lanes, lanes, rows * columns // taps, taps)
    return ir_index.flatten() if channel_major else ir_index.transpose(2, 0, 3, 1).flatten()


def _flattened_image(graph: Graph, name: str) -> tuple[int, int, int] | None:
    """(C, H, W) when vector `name` is a flattened image of more than one pixel, maybe
    through ops that keep its shape, that streams pixel by pixel, in (H, W, C) order (its
    Flatten has no reordering stage)."""
    node = graph.producer(name)
    while node is not None and node.op != "Flatten" and graph.tensor(node.inputs[0]).shape == graph.tensor(name).shape:
        node = graph.producer(node.inputs[0])
    if node is None or node.op != "Flatten" or flatten_reorders(graph, node):
        return None
    image = stream_image(graph.tensor(node.inputs[0]).shape)
    return image if image is not None and image[1] * image[2] > 1 else None


def _check_window(node: Node, window: WindowConfig) -> None:
    if window.channel_major and window.taps > 1:
        raise ValueError(f"node {node.name!r}: its accumulator rounds or saturates, so its windows go in the IR's "
                         f"order, one value a beat; SIMD={window.simd * window.taps} takes {window.taps} taps a beat")
    if any(n <= 0 for n in window.out_size):
        raise ValueError(f"node {node.name!r}: the kernel {window.kernel} does not fit the padded image")


def _words(words: tuple[int, ...], bits: int) -> list[str]:
    """ROM words as Verilog literals of `bits` bits (`fxhls.rtl.verilog.sized_literals`)."""
    return sized_literals(words, bits)


def _literals(parameters: dict[str, int | str]) -> dict[str, str]:
    """The parameters as Verilog literals (`fxhls.rtl.verilog.literal`)."""
    return {key: literal(value) for key, value in parameters.items()}
