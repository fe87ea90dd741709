"""Benchmark `fxhls build` and `fxhls csim` against hls4ml on the same QONNX models.

For each model (a Brevitas MLP and CNN with 8-bit fixed-point quantizers, exported
to QONNX with random calibrated weights) and 1,000 random inputs, side by side:

* build: fxhls `fxhls build MODEL.onnx --board ultra96v2` against hls4ml's
  QONNX flow (qonnx cleanup, ConvertToChannelsLastAndClean, GemmToMatMul,
  config_from_onnx_model, convert_from_onnx_model with the Vitis backend and
  io_type='io_stream', then writing the project), both in this process after
  a first, untimed build (imports done); and as fresh processes, imports included;
* csim: fxhls `fxhls csim DIR`'s work (`fxhls.sim.csim.run_csim`: its g++ build with
  an empty compile cache, then the run on 1,000 inputs) against hls4ml's
  `compile()` (its g++ build) and `predict()`, both in this process.

Outputs: fxhls csim against `fxhls emulate` (must be equal: mismatches are
counted), and hls4ml's against the same (for information: hls4ml's default types
differ from the model's). Each figure is the median of --reps runs.

Needs the bench extra (`.venv/bin/pip install -e ".[bench]"`: Brevitas, qonnx).
Run from the repository root:  .venv/bin/python bench/build.py [--reps 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

INPUTS = 1000
BOARD = "ultra96v2"
ROOT = Path(__file__).resolve().parents[1]


def export_model(name: str, directory: Path) -> tuple[Path, np.ndarray]:
    """Brevitas model `name` ("mlp" or "cnn"), calibrated on random data, as QONNX; and INPUTS inputs."""
    import torch
    from brevitas import nn as qnn
    from brevitas.export import export_qonnx
    from brevitas.graph.calibrate import calibration_mode
    from brevitas.quant import (Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint, Int16Bias,
                                Uint8ActPerTensorFixedPoint)
    from torch import nn

    def conv(i, o):
        return qnn.QuantConv2d(i, o, 3, padding=1, weight_quant=Int8WeightPerTensorFixedPoint, bias_quant=Int16Bias,
                               return_quant_tensor=True)

    def linear(i, o, last=False):
        return qnn.QuantLinear(i, o, weight_quant=Int8WeightPerTensorFixedPoint, bias_quant=Int16Bias,
                               return_quant_tensor=not last)

    def relu():
        return qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True)

    torch.manual_seed(0)
    source = qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, return_quant_tensor=True)
    if name == "mlp":
        model, shape = nn.Sequential(source, linear(64, 64), relu(), linear(64, 32), relu(), linear(32, 10, True)), (64,)
    else:
        model = nn.Sequential(source, conv(1, 8), relu(), nn.MaxPool2d(2), conv(8, 16), relu(), nn.MaxPool2d(2),
                              nn.Flatten(), linear(16 * 4 * 4, 10, True))
        shape = (1, 16, 16)
    model.train()
    with torch.no_grad(), calibration_mode(model):
        for batch in torch.randn(256, *shape).split(32):
            model(batch)
    model.eval()
    path = directory / f"{name}.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        export_qonnx(model, args=torch.randn(1, *shape), export_path=str(path), dynamo=False)
    inputs = np.random.default_rng(0).normal(0, 1.5, (INPUTS, *shape)).astype(np.float32)
    return path, inputs


def fxhls_build(model: Path, out: Path, *options: str) -> None:
    """`fxhls build MODEL --board BOARD --out OUT --force OPTIONS...` (e.g. --default-type T)."""
    from fxhls.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        status = main(["build", str(model), "--board", BOARD, "--out", str(out), "--force", *options])
    if status:
        raise RuntimeError(f"fxhls build {model} failed ({status})")


def fxhls_csim(project: Path, x: np.ndarray) -> np.ndarray:
    """`fxhls csim`'s work: compile (with an empty compile cache) and run on x."""
    from fxhls.sim.csim import run_csim

    with tempfile.TemporaryDirectory() as cache:
        previous = os.environ.get("FXHLS_CACHE")
        os.environ["FXHLS_CACHE"] = cache
        try:
            return run_csim(project, x)
        finally:
            os.environ.pop("FXHLS_CACHE")
            if previous is not None:
                os.environ["FXHLS_CACHE"] = previous


def hls4ml_convert(model: Path, out: Path, **options):
    """hls4ml's documented QONNX flow; returns the written project (an hls4ml ModelGraph).
    `options` go to config_from_onnx_model (default: granularity "name")."""
    import hls4ml
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.util.cleanup import cleanup_model

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        wrapper = cleanup_model(ModelWrapper(str(model)))
        wrapper = cleanup_model(wrapper.transform(ConvertToChannelsLastAndClean()).transform(GemmToMatMul()))
        config = hls4ml.utils.config.config_from_onnx_model(wrapper, backend="Vitis",
                                                            **{"granularity": "name", **options})
        project = hls4ml.converters.convert_from_onnx_model(wrapper, output_dir=str(out), io_type="io_stream",
                                                            backend="Vitis", hls_config=config)
        project.write()
    return project


def timed(run) -> tuple[float, object]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def process_seconds(*command: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def measure(model: Path, inputs_path: Path, work: Path) -> dict:
    """One run of every timing; returns seconds and outputs."""
    fxhls_dir, hls4ml_dir = work / "fxhls", work / "hls4ml"
    figures = {"fxhls build": timed(lambda: fxhls_build(model, fxhls_dir))[0]}
    figures["hls4ml build"], project = timed(lambda: hls4ml_convert(model, hls4ml_dir))
    me = [sys.executable, str(Path(__file__).resolve())]
    figures["fxhls build (process)"] = process_seconds(*me, "--only", "fxhls", str(model), str(work / "fxhls_p"))
    figures["hls4ml build (process)"] = process_seconds(*me, "--only", "hls4ml", str(model), str(work / "hls4ml_p"))
    x = np.load(inputs_path)
    figures["fxhls csim"], csim_outputs = timed(lambda: fxhls_csim(fxhls_dir, x))
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        figures["hls4ml csim"], _ = timed(project._compile)
        seconds, predicted = timed(lambda: project.predict(np.ascontiguousarray(_channels_last(x))))
    figures["hls4ml csim"] += seconds
    return figures | {"csim": csim_outputs, "hls4ml": np.asarray(predicted).reshape(len(x), -1)}


def _channels_last(x: np.ndarray) -> np.ndarray:
    return x.transpose(0, 2, 3, 1) if x.ndim == 4 else x


def emulated(model: Path, inputs_path: Path) -> np.ndarray:
    from fxhls.emulation import emulate

    return emulate(str(model), np.load(inputs_path))


def report(name: str, runs: list[dict], expected: np.ndarray) -> list[str]:
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0] if isinstance(runs[0][key], float)}
    csim_mismatches = int((runs[-1]["csim"].reshape(expected.shape) != expected).sum())
    hls4ml_mismatches = int((runs[-1]["hls4ml"].reshape(expected.shape) != expected).sum())
    rows = []
    for what in ("build", "build (process)", "csim"):
        ours, theirs = median[f"fxhls {what}"], median[f"hls4ml {what}"]
        verdict = "faster" if ours < theirs else "SLOWER"
        rows.append(f"| {name} | {what} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.1f}x ({verdict}) |")
    rows.append(f"| {name} | outputs differing from `fxhls emulate` | {csim_mismatches} of {expected.size} | "
                f"{hls4ml_mismatches} of {expected.size} | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", nargs=3, metavar=("TOOL", "MODEL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:  # one build in a fresh process, for the "(process)" figures
        tool, model, out = args.only
        (fxhls_build if tool == "fxhls" else hls4ml_convert)(Path(model), Path(out))
        return
    import fxhls.cli  # noqa: F401  (imports happen before the in-process timings)
    import hls4ml  # noqa: F401

    rows = ["| model | step | fxhls s | hls4ml s | speed-up |", "|---|---|---:|---:|---:|"]
    for name in ("mlp", "cnn"):
        with tempfile.TemporaryDirectory() as work:
            work = Path(work)
            model, inputs = export_model(name, work)
            inputs_path = work / "inputs.npy"
            np.save(inputs_path, inputs)
            expected = emulated(model, inputs_path)
            fxhls_build(model, work / "warm_fxhls")  # lazy imports (plots, deploy) out of the timings
            hls4ml_convert(model, work / "warm_hls4ml")
            runs = [measure(model, inputs_path, work / f"run{r}") for r in range(args.reps)]
            rows += report(name, runs, expected)
            print("\n".join(rows[-4:]), flush=True)
    print()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
