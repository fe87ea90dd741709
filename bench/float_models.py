"""Float models through fxhls and hls4ml, side by side at the same default type.

A float MLP (64-64-32-10) and a float CNN (conv 1->8, pool, conv 8->16, pool, dense), written
with torch (seeded random weights) and exported to ONNX, with 1,000 random inputs. Each tool
gets the float ONNX file and `ap_fixed<16,6>` as its default type: fxhls
`build --default-type` (weights, biases and layer outputs of that type, exact accumulators),
hls4ml 1.3.0's ONNX flow (bench/build.py's `hls4ml_convert`) with `default_precision` and
granularity "model" (every type of the model that one, accumulators included; hls4ml's
usual set-up for a float model) and, for information, granularity "name" (hls4ml infers
the result and accumulator types per layer).

Measured per model, in this process after a first, untimed build of each (imports done):
build time; C simulation, compile (empty compile cache for fxhls) and run on the inputs;
each tool's distance from float (onnxruntime on the float file): largest absolute output
error and top-class agreement; and whether each C simulation equals its own reference
(fxhls: csim == `fxhls emulate`, counted with ==; hls4ml has no emulator apart from its C
simulation: `predict` runs it). Medians of --reps runs; ratios against hls4ml in the same run.

Run from the repository root:  .venv/bin/python bench/float_models.py [--reps 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import warnings
from pathlib import Path

import numpy as np

from build import _channels_last, fxhls_build, fxhls_csim, hls4ml_convert, timed

DEFAULT_TYPE = "ap_fixed<16,6>"
INPUTS = 1000
HLS4ML_SETUPS = {"hls4ml": "model", "hls4ml (per-layer types)": "name"}


def export_model(name: str, directory: Path) -> tuple[Path, np.ndarray]:
    """The float torch model `name` ("mlp" or "cnn") as ONNX (torch.onnx), and INPUTS inputs."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    if name == "mlp":
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
        shape = (64,)
    else:
        model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
                              nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 10))
        shape = (1, 16, 16)
    path = directory / f"{name}.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), torch.randn(1, *shape), str(path), input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, dynamo=False)
    return path, np.random.default_rng(0).normal(0, 1.5, (INPUTS, *shape)).astype(np.float32)


def onnxruntime_float(model: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0].astype(np.float64)


def measure(model: Path, x: np.ndarray, work: Path) -> dict:
    """One run of every timing; returns seconds and outputs by tool."""
    import hls4ml  # noqa: F401  (imported before the timings)

    figures = {}
    figures["fxhls", "build"] = timed(lambda: fxhls_build(model, work / "fxhls", "--default-type", DEFAULT_TYPE))[0]
    figures["fxhls", "csim"], outputs = timed(lambda: fxhls_csim(work / "fxhls", x))
    figures["fxhls", "outputs"] = outputs.reshape(len(x), -1)
    for tool, granularity in HLS4ML_SETUPS.items():
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            figures[tool, "build"], project = timed(lambda: hls4ml_convert(
                model, work / granularity, granularity=granularity, default_precision=DEFAULT_TYPE))
            compile_seconds, _ = timed(project._compile)
            run_seconds, predicted = timed(lambda: project.predict(np.ascontiguousarray(_channels_last(x))))
        figures[tool, "csim"] = compile_seconds + run_seconds
        figures[tool, "outputs"] = np.asarray(predicted, dtype=np.float64).reshape(len(x), -1)
    return figures


def report(name: str, runs: list[dict], reference: np.ndarray, emulated: np.ndarray) -> list[str]:
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0] if key[1] != "outputs"}
    rows = []
    for tool in ("fxhls", *HLS4ML_SETUPS):
        outputs = runs[-1][tool, "outputs"]
        error = np.abs(outputs - reference).max()
        agreement = 100 * (outputs.argmax(axis=1) == reference.argmax(axis=1)).mean()
        if tool == "fxhls":
            own = f"{int((outputs != emulated.reshape(outputs.shape)).sum())} of {outputs.size} differ from emulate"
            ratios = ""
        else:
            own = "n/a: predict is its C simulation"
            ratios = (f"{median[tool, 'build'] / median['fxhls', 'build']:.1f}x | "
                      f"{median[tool, 'csim'] / median['fxhls', 'csim']:.1f}x")
        rows.append(f"| {name} | {tool} | {median[tool, 'build']:.2f} | {median[tool, 'csim']:.2f} | {error:.4f} | "
                    f"{agreement:.1f}% | {own} | {ratios} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    from fxhls.emulation import emulate

    rows = [f"| model | tool ({DEFAULT_TYPE}) | build s | csim s (compile + {INPUTS} inputs) | "
            f"largest error vs float | top class = float | csim against its own reference | hls4ml/fxhls build time | hls4ml/fxhls csim time |",
            "|---|---|---:|---:|---:|---:|---|---:|---:|"]
    for name in ("mlp", "cnn"):
        with tempfile.TemporaryDirectory() as work:
            work = Path(work)
            model, x = export_model(name, work)
            reference = onnxruntime_float(model, x)
            emulated = emulate(str(model), x, default_type=DEFAULT_TYPE)
            measure(model, x, work / "warm")  # lazy imports and first compilations out of the timings
            runs = [measure(model, x, work / f"run{r}") for r in range(args.reps)]
            rows += report(name, runs, reference, emulated)
            print("\n".join(rows[-len(HLS4ML_SETUPS) - 1:]), flush=True)
    print()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
