"""Helpers of the HLS build and C simulation tests: hardware graphs built in the IR,
random exact inputs, and a project's C simulation next to the IR's execution."""

from __future__ import annotations

import numpy as np

from fxhls.deploy import stream_interface
from fxhls.fixed import FixedType
from fxhls.hls.writer import write_hls_project
from fxhls.ir import Graph, Node, Tensor, execute, infer_types
from fxhls.ir.ops.quantize import type_attrs
from fxhls.sim.csim import run_csim


def random_values(t, shape, seed: int) -> np.ndarray:
    """Values of type t, uniform over its codes (seeded)."""
    t = FixedType.parse(t)
    codes = np.random.default_rng(seed).integers(t.min_code, t.max_code, size=tuple(shape), endpoint=True)
    return codes * t.lsb


def sample_inputs(shape, samples: int, seed: int) -> np.ndarray:
    """Float inputs that cover an input cast's range and beyond (it saturates or wraps),
    with the first samples at the extremes."""
    x = np.random.default_rng(seed).normal(size=(samples, *shape)) * 4
    x[0], x[1] = 100.0, -100.0
    return x


class GraphBuilder:
    """A hardware graph, node by node: `add(op, inputs, attrs)` appends a node writing a
    new tensor and returns its name; `constant(type, shape)` a random constant."""

    def __init__(self, input_shape, input_type: str, input_name: str = "x"):
        self.tensors = {input_name: Tensor(input_name, tuple(input_shape))}
        self.nodes: list[Node] = []
        self.input = input_name
        self.seed = 0
        self.last = self.add("Quantize", [input_name], type_attrs(FixedType.parse(input_type)))

    def constant(self, t: str, shape, name: str | None = None, values=None) -> str:
        self.seed += 1
        name = name or f"c{self.seed}"
        data = random_values(t, shape, self.seed) if values is None else np.asarray(values, dtype=np.float64)
        self.tensors[name] = Tensor(name, tuple(shape), FixedType.parse(t), data)
        return name

    def add(self, op: str, inputs: list[str], attrs: dict | None = None, name: str | None = None,
            output: str | None = None) -> str:
        index = len(self.nodes)
        output = output or f"t{index}"
        self.tensors[output] = Tensor(output)
        self.nodes.append(Node(op, name or f"{op.lower()}{index}", list(inputs), [output], dict(attrs or {})))
        self.last = output
        return output

    def graph(self) -> Graph:
        return infer_types(Graph(self.nodes, self.tensors, [self.input], [self.last]))


def csim_against_ir(graph: Graph, directory, x, name: str = "model", **options) -> tuple[np.ndarray, np.ndarray]:
    """(C simulation's outputs, the IR's exact outputs) of `graph` on x; the project is
    written into `directory` for the ultra96v2."""
    design = stream_interface(graph, name, "ultra96v2", 250)
    write_hls_project(graph, design, directory, **options)
    expected = execute(graph, x)[0]
    return run_csim(directory, x), expected
