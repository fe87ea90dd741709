"""Compile fxhls HLS layers into one C++ test program (cached by a hash of its source)
and run them on samples: the tests compare the outputs with the IR's exact execution."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from fxhls.ir.graph import Graph
from fxhls.cache import cached_file, default_cache_dir
from fxhls.sim.toolchain import ap_types_include_dir, cxx_compiler

LAYERS_DIR = Path(__file__).resolve().parents[1] / "templates" / "hls" / "layers"
FLAGS = ["-std=c++14", "-O0", "-Wall", "-Wextra", "-Werror", "-Wno-unknown-pragmas"]


@dataclass
class LayerCase:
    """One layer (its graph holds the layer's node, and a fused Threshold after it) and
    its C++ from the backend: `layer` is what a `fxhls.hls.layers` function returns."""

    graph: Graph
    layer: dict

    def context(self) -> dict:
        x, y = self.graph.tensor(self.graph.inputs[0]), self.graph.tensor(self.graph.outputs[0])
        return dict(code=self.layer["code"], weights=self.layer.get("weights", ""),
                    call=self.layer["call"]("input", "output"),
                    in_type=x.type, in_lanes=x.shape[0], in_beats=_pixels(x.shape),
                    out_type=y.type, out_lanes=y.shape[0], out_beats=_pixels(y.shape))


def _pixels(shape) -> int:
    return shape[1] * shape[2] if len(shape) == 3 else 1


def stream_order(x: np.ndarray) -> np.ndarray:
    """(batch, C, H, W) -> (batch, H*W*C): pixels in row order, channels together."""
    return (x.transpose(0, 2, 3, 1) if x.ndim == 4 else x).reshape(x.shape[0], -1)


class LayerProgram:
    """The compiled program for `cases`; `run(i, x)` runs case i on the batch x."""

    def __init__(self, cases: list[LayerCase]):
        self.cases = cases
        headers = sorted({h for case in cases for h in case.layer["headers"]})
        environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent)),
                                         undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        source = environment.get_template("hls_layer_harness.cpp.j2").render(
            headers=headers, cases=[case.context() for case in cases])
        self.binary = _build(source)

    def run(self, index: int, x: np.ndarray) -> np.ndarray:
        """The case's outputs for inputs x (batch first), in the IR's layout."""
        graph = self.cases[index].graph
        values = stream_order(np.asarray(x, dtype=np.float64))
        text = "\n".join(v.hex() for v in values.flatten().tolist()) + "\n"
        result = subprocess.run([str(self.binary), str(index), str(x.shape[0])], input=text,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"harness case {index} failed: {result.stderr}")
        out = np.array([float.fromhex(v) for v in result.stdout.split()], dtype=np.float64)
        shape = graph.tensor(graph.outputs[0]).shape
        if len(shape) == 3:
            channels, height, width = shape
            return out.reshape(x.shape[0], height, width, channels).transpose(0, 3, 1, 2)
        return out.reshape(x.shape[0], *shape)


def _build(source: str) -> Path:
    include = ap_types_include_dir()
    digest = hashlib.sha256(source.encode())
    for header in [*sorted(include.glob("*.h")), *sorted(LAYERS_DIR.glob("*.h"))]:
        digest.update(header.read_bytes())
    digest.update(" ".join([cxx_compiler(), *FLAGS]).encode())

    def compile_to(target: Path) -> None:
        cpp = target.with_name("harness.cpp")
        cpp.write_text(source)
        command = [cxx_compiler(), *FLAGS, "-isystem", str(include), "-I", str(LAYERS_DIR), str(cpp), "-o", str(target)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"compiling the layer harness failed:\n{result.stderr[-6000:]}")

    return cached_file(default_cache_dir() / "hls_layers" / digest.hexdigest()[:24], "harness", compile_to)
