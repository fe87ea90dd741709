"""Measure fxhls's emulator against qonnx's executor on float-scaled Brevitas models.

Models: Brevitas's default quantizers (float scales learned from calibration data,
per-tensor activations, per-tensor or per-channel weights, float biases, float
BatchNorm), calibrated on seeded random data, and FINN's example networks
(brevitas_examples.bnn_pynq, untrained, with random BatchNorm statistics). For each,
on seeded random inputs, it counts the codes of every activation Quant that differ from
qonnx's (qonnx's value / scale) and the outputs that differ, with the largest difference.

qonnx sums float32 products in float32 (onnxruntime's order); fxhls sums the integer
codes exactly and rounds the dequantized sum once. A code can differ only where an
accumulator lies within that float32 rounding of a threshold; a float output (a layer
not requantized, computed on the host) can differ in its last bits.

Run from the repository root:  .venv/bin/python bench/qonnx_float.py [--samples N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx

from fxhls.ir import OPS, execute
from fxhls.fixed.float32 import rescale
from fxhls.onnx import load_onnx
from fxhls.onnx.qonnx_cleanup import cleaned

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from float_scaled_models import BREVITAS_DEFAULT, brevitas_default, finn_example  # noqa: E402  (measured as tested)


def _quietly(export):
    def run(name: str, path: Path, samples: int) -> np.ndarray:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return export(name, path, samples)

    return run


def measure(path: Path, x: np.ndarray) -> dict:
    """Codes compared and differing, outputs compared and differing, largest output difference."""
    graph = load_onnx(path)
    wrapper = ModelWrapper(cleaned(onnx.load(path), path))
    reference = execute_onnx(wrapper, {wrapper.graph.input[0].name: x}, return_full_exec_context=True)
    values = {**graph.constants(), graph.inputs[0]: x.astype(np.float64)}
    for node in graph.nodes:
        op, inputs = OPS[node.op], [values[i] for i in node.inputs]
        types = [graph.tensor(i).type for i in node.inputs]
        values.update(zip(node.outputs, op.execute(node, inputs, types) if getattr(op, "reads_types", False)
                          else op.execute(node, inputs)))
    codes = differing_codes = 0
    for node in wrapper.graph.node:
        tensor = graph.tensors.get(node.output[0])
        if node.op_type != "Quant" or tensor is None or tensor.data is not None or "scale" not in tensor.facts:
            continue
        ours = rescale(values[tensor.name], {"zero": tensor.facts["zero_point"][None],
                                             "scales": [tensor.facts["scale"][None]]}, channel_axis=1)
        codes += ours.size
        differing_codes += int((ours != reference[node.output[0]]).sum())
    output, expected = execute(graph, x)[0], reference[wrapper.graph.output[0].name]
    return {"ops": sorted({node.op for node in graph.nodes}), "codes": codes, "differing codes": differing_codes,
            "outputs": output.size, "differing outputs": int((output != expected).sum()),
            "largest difference": float(np.abs(output - expected).max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=64)
    args = parser.parse_args()
    exporters = {**{name: _quietly(brevitas_default) for name in BREVITAS_DEFAULT},
                 **{name: _quietly(finn_example) for name in ("tfc_1w1a", "tfc_2w2a", "sfc_1w2a", "cnv_1w1a", "cnv_2w2a")}}
    print("| model | codes compared | codes differing | outputs | outputs differing | largest difference |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for name, export in exporters.items():
            path = Path(folder) / f"{name}.onnx"
            row = measure(path, export(name, path, args.samples))
            print(f"| {name} | {row['codes']:,} | {row['differing codes']} | {row['outputs']:,} | "
                  f"{row['differing outputs']} | {row['largest difference']:.3g} |", flush=True)


if __name__ == "__main__":
    main()
