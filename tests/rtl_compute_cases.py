"""Shared by the compute RTL tests: IR graphs of one Gemm or Conv (maybe thresholded),
their input and expected output beats, and one Verilator build for many layers.

The expected outputs come from the IR's own execution (`fxhls.ir.execute`), never
from the RTL code under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
import torch

from fxhls.fixed import BINARY_TYPE, FixedType, quantize
from fxhls.ir import Graph, Node, Tensor, execute, infer_types
from fxhls.ir.passes.khot import khot_terms
from fxhls.qfx.khot import nearest_khot
from fxhls.rtl.layers import ComputeLayer, compute_layer, compute_sources
from fxhls.sim.cosim import simulate_streams
from fxhls.sim.verilator import build

BANK_TEMPLATE = Path(__file__).parent / "rtl" / "compute_bank.v.j2"


@dataclass(frozen=True)
class Spec:
    """One layer to test. `x`: the input type, or "binary" (-1/+1 from a Sign);
    `weights`: "mul", "binary" or ("khot", K); `conv`: None for a Gemm, else
    (channels, height, width, kernel, strides, pads); `image`: a Gemm's input is this
    (channels, height, width) image, flattened."""

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


@dataclass
class Case:
    spec: Spec
    graph: Graph
    x: torch.Tensor  # the graph's input batch
    layer: ComputeLayer
    input_beats: list[int]
    expected_beats: list[int]


def random_values(t: FixedType, shape, gen: torch.Generator) -> torch.Tensor:
    """Values of type t with codes uniform over the type's range."""
    codes = torch.randint(t.min_code, t.max_code + 1, shape, generator=gen, dtype=torch.int64)
    return codes.to(torch.float64) * t.lsb


def make_case(spec: Spec, samples: int, seed: int) -> Case:
    gen = np.random.default_rng(seed)
    graph, x = _graph(spec, samples, gen)
    node = next(n for n in graph.nodes if n.op in ("Gemm", "Conv"))
    threshold = next((n for n in graph.nodes if n.op == "Threshold"), None)
    layer = compute_layer(graph, node, spec.simd, spec.pe, threshold, name=spec.name)
    layer_input, output = execute(graph, x)
    x_type = None if spec.x == "binary" else spec.x
    out_type = None if spec.threshold else graph.tensor(graph.outputs[1]).type
    input_beats = _beats(_stream_codes(layer_input, x_type), spec.simd, 1 if x_type is None else x_type.width)
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


def _graph(spec: Spec, samples: int, gen: torch.Generator) -> tuple[Graph, torch.Tensor]:
    in_shape = spec.conv[:3] if spec.conv else spec.image or (spec.in_features,)
    w_shape = (spec.out_features, spec.conv[0], *spec.conv[3]) if spec.conv else (spec.out_features, spec.in_features)
    tensors, nodes = {}, []
    if spec.x == "binary":
        tensors["raw"] = Tensor("raw", in_shape)
        tensors["x"] = Tensor("x")
        nodes.append(Node("Sign", "sign", ["raw"], ["x"]))
        x = torch.randn((samples, *in_shape), generator=gen, dtype=torch.float64)
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
        values = torch.randint(-fan_in, fan_in + 1, (spec.out_features,), generator=gen).to(torch.float64)
        directions = [1 if bool(b) else -1 for b in torch.randint(0, 2, (spec.out_features,), generator=gen)]
        tensors["thr"] = Tensor("thr", (spec.out_features,), FixedType(16, 16), values)
        tensors["z"] = Tensor("z")
        nodes.append(Node("Threshold", "threshold", ["y", "thr"], ["z"], {"direction": directions}))
        outputs = ["x", "z"]
    graph = Graph(nodes, tensors, ["raw" if spec.x == "binary" else "x"], outputs)
    return infer_types(graph), x


def _weights(spec: Spec, shape, gen: torch.Generator) -> Tensor:
    t = spec.weight_type
    if spec.weights == "binary":
        values = torch.randint(0, 2, shape, generator=gen).to(torch.float64) * 2 - 1
        return Tensor("w", shape, BINARY_TYPE, values, {"binary": True})
    values = random_values(t, shape, gen)
    if spec.weights == "mul":
        return Tensor("w", shape, t, values)
    k = spec.weights[1]
    values = nearest_khot(values, t, k)
    return Tensor("w", shape, t, values, {"khot": k, "terms": khot_terms(values, t.frac_bits, k, "w")})


def _stream_codes(values: torch.Tensor, t: FixedType | None) -> torch.Tensor:
    """(samples, n) codes in stream order: (H, W, C) for images; bits 1/0 for -1/+1 when t is None."""
    if values.dim() == 4:
        values = values.permute(0, 2, 3, 1)
    values = values.flatten(1)
    if t is None:
        return (values > 0).to(torch.int64)
    assert bool((quantize(values, t) == values).all())
    return (values * 2.0**t.frac_bits).round().to(torch.int64) & ((1 << t.width) - 1)


def _beats(codes: torch.Tensor, lanes: int, bits: int) -> list[int]:
    rows = codes.reshape(-1, lanes).tolist()
    return [sum(code << (i * bits) for i, code in enumerate(row)) for row in rows]
