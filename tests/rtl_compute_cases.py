"""Shared by the compute RTL tests: IR graphs of one Gemm or Conv (maybe thresholded),
their input and expected output beats, and one Verilator build for many layers.

The expected outputs come from the IR's own execution (`fxhls.ir.execute`), never
from the RTL code under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from fxhls.fixed import BINARY_TYPE, FixedType, quantize
from fxhls.ir import Graph, Node, Tensor, execute, infer_types
from fxhls.ir.passes.khot import khot_terms
from fxhls.rtl.layers import ComputeLayer, compute_layer, compute_sources
from fxhls.sim.cosim import simulate_streams
from fxhls.sim.verilator import build
from hls_layer_graphs import random_khot, random_values

BANK_TEMPLATE = Path(__file__).parent / "rtl" / "compute_bank.v.j2"


@dataclass(frozen=True)
class Spec:
    """One layer to test. `x`: the input type, or "binary" (-1/+1 from a Sign);
    `weights`: "mul", "binary" or ("khot", K); `conv`: None for a Gemm, else
    (channels, height, width, kernel, strides, pads); `image`: a Gemm's input is this
    (channels, height, width) image, flattened; `dot_stage`: `compute_layer`'s."""

    name: str
    x: FixedType | str
    weights: str | tuple
    weight_type: FixedType
    in_features: int  # Gemm only
    out_features: int
    simd: int
    pe: int
    bias_type: FixedType | None = None
    acc_type: FixedType | None = None
    out_type: FixedType | None = None
    threshold: bool = False
    conv: tuple | None = None
    image: tuple | None = None
    dot_stage: int = 0  # adder levels between the dot product's pipeline registers (0: none)


@dataclass
class Case:
    spec: Spec
    graph: Graph
    x: np.ndarray  # the graph's input batch
    layer: ComputeLayer
    input_beats: list[int]
    expected_beats: list[int]


def make_case(spec: Spec, samples: int, seed: int) -> Case:
    gen = np.random.default_rng(seed)
    graph, x = _graph(spec, samples, gen)
    node = next(n for n in graph.nodes if n.op in ("Gemm", "Conv"))
    threshold = next((n for n in graph.nodes if n.op == "Threshold"), None)
    layer = compute_layer(graph, node, spec.simd, spec.pe, threshold, name=spec.name, dot_stage=spec.dot_stage)
    layer_input, output = execute(graph, x)
    x_type = None if spec.x == "binary" else spec.x
    out_type = None if spec.threshold else graph.tensor(graph.outputs[1]).type
    in_lanes = layer.window.simd if layer.window else spec.simd  # a window's beat may hold several taps
    input_beats = _beats(_stream_codes(layer_input, x_type), in_lanes, 1 if x_type is None else x_type.width)
    expected = _beats(_stream_codes(output, out_type), spec.pe, 1 if out_type is None else out_type.width)
    return Case(spec, graph, x, layer, input_beats, expected)


def run_bank(cases: list[Case], work: Path, pause: float, seed: int = 1):
    """Build one design holding every case's layer and stream all of them at once;
    returns the run (`fxhls.sim.cosim.StreamRun`)."""
    sources = []
    for case in cases:
        source = work / f"{case.layer.name}.v"
        source.write_text(case.layer.render())
        sources.append(source)
    template = jinja2.Template(BANK_TEMPLATE.read_text(), trim_blocks=True, lstrip_blocks=True)
    bank = work / "compute_bank.v"
    bank.write_text(template.render(cases=cases))
    build_dir = build([*compute_sources(), *sources, bank], "compute_bank")
    return simulate_streams(build_dir, "compute_bank",
                            {f"{case.layer.name}_s_axis": case.input_beats for case in cases},
                            {f"{case.layer.name}_m_axis": len(case.expected_beats) for case in cases},
                            pause=pause, seed=seed, max_cycles=200_000)


def mismatched_layers(cases: list[Case], run) -> dict[str, str]:
    """The cases whose output beats in `run` differ from the IR's (name -> how many)."""
    mismatches = {}
    for case in cases:
        got = run.outputs[f"{case.layer.name}_m_axis"]
        assert len(got) == len(case.expected_beats), case.layer.name
        bad = sum(g != e for g, e in zip(got, case.expected_beats))
        if bad:
            mismatches[case.layer.name] = f"{bad} of {len(got)} beats"
    return mismatches


def _graph(spec: Spec, samples: int, gen: np.random.Generator) -> tuple[Graph, np.ndarray]:
    in_shape = spec.conv[:3] if spec.conv else spec.image or (spec.in_features,)
    w_shape = (spec.out_features, spec.conv[0], *spec.conv[3]) if spec.conv else (spec.out_features, spec.in_features)
    tensors, nodes = {}, []
    if spec.x == "binary":
        tensors["raw"] = Tensor("raw", in_shape)
        tensors["x"] = Tensor("x")
        nodes.append(Node("Sign", "sign", ["raw"], ["x"]))
        x = gen.normal(size=(samples, *in_shape))
    else:
        tensors["x"] = Tensor("x", in_shape, spec.x)
        x = random_values(spec.x, (samples, *in_shape), gen)
    tensors["w"] = _weights(spec, w_shape, gen)
    inputs = ["x", "w"]
    if spec.image:
        tensors["flat"] = Tensor("flat")
        nodes.append(Node("Flatten", "flatten", ["x"], ["flat"]))
        inputs = ["flat", "w"]
    if spec.bias_type is not None:
        tensors["b"] = Tensor("b", (spec.out_features,), spec.bias_type,
                              random_values(spec.bias_type, (spec.out_features,), gen))
        inputs.append("b")
    attrs = {}
    if spec.conv:
        attrs = {"strides": spec.conv[4], "pads": spec.conv[5]}
    if spec.acc_type is not None:
        attrs["acc_type"] = str(spec.acc_type)
    if spec.out_type is not None:
        attrs["out_type"] = str(spec.out_type)
    tensors["y"] = Tensor("y")
    nodes.append(Node("Conv" if spec.conv else "Gemm", "layer", inputs, ["y"], attrs))
    outputs = ["x", "y"]
    if spec.threshold:
        fan_in = w_shape[1] if not spec.conv else spec.conv[0] * spec.conv[3][0] * spec.conv[3][1]
        values = gen.integers(-fan_in, fan_in, size=(spec.out_features,), endpoint=True).astype(np.float64)
        directions = [1 if b else -1 for b in gen.integers(0, 1, size=(spec.out_features,), endpoint=True)]
        tensors["thr"] = Tensor("thr", (spec.out_features,), FixedType(16, 16), values)
        tensors["z"] = Tensor("z")
        nodes.append(Node("Threshold", "threshold", ["y", "thr"], ["z"], {"direction": directions}))
        outputs = ["x", "z"]
    graph = Graph(nodes, tensors, ["raw" if spec.x == "binary" else "x"], outputs)
    return infer_types(graph), x


def _weights(spec: Spec, shape, gen: np.random.Generator) -> Tensor:
    t = spec.weight_type
    if spec.weights == "binary":
        values = gen.integers(0, 1, size=shape, endpoint=True) * 2.0 - 1
        return Tensor("w", shape, BINARY_TYPE, values, {"binary": True})
    if spec.weights == "mul":
        return Tensor("w", shape, t, random_values(t, shape, gen))
    k = spec.weights[1]
    values = random_khot(t, k, shape, gen)
    return Tensor("w", shape, t, values, {"khot": k, "terms": khot_terms(values, t.frac_bits, k, "w")})


def _stream_codes(values: np.ndarray, t: FixedType | None) -> np.ndarray:
    """(samples, n) codes in stream order: (H, W, C) for images; bits 1/0 for -1/+1 when t is None."""
    if values.ndim == 4:
        values = values.transpose(0, 2, 3, 1)
    values = values.reshape(values.shape[0], -1)
    if t is None:
        return (values > 0).astype(np.int64)
    assert (quantize(values, t) == values).all()
    return np.round(values * 2.0**t.frac_bits).astype(np.int64) & ((1 << t.width) - 1)


def _beats(codes: np.ndarray, lanes: int, bits: int) -> list[int]:
    rows = codes.reshape(-1, lanes).tolist()
    return [sum(code << (i * bits) for i, code in enumerate(row)) for row in rows]
