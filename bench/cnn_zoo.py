"""The field CNNs of tests/cnn_zoo_models.py at their published sizes (224x224 MobileNet-v1
and ProxylessNAS, 3x512x512 CloudSatNet, the full ResNet-18s and ResNet-8s): for each, the
time to import it (`load_onnx`, thresholds derived), to emulate a batch, qonnx's executor
on the same batch (the baseline: fxhls's emulator time / qonnx's is printed), the peak
memory of this process, and every quantized tensor's codes against qonnx's (mismatches;
of the first tensor that differs, the codes that differ away from a tie of its quantizer,
where qonnx's float32 sum order and fxhls's exact sum may round apart).

Run from the repository root:  .venv/bin/python bench/cnn_zoo.py [NAME ...] [--samples N]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from cnn_zoo_models import SMALL, export  # noqa: E402  (the models the tests check, small)
from quantized_tensors import compare_quantized, qonnx_context  # noqa: E402

from fxhls.ir import execute  # noqa: E402
from fxhls.onnx import load_onnx  # noqa: E402


def _peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def measure(name: str, samples: int, directory: Path) -> str:
    path = directory / f"{name}.onnx"
    x = export(name, path, samples=samples, full=True)
    start = time.perf_counter()
    graph = load_onnx(path)
    loaded = time.perf_counter()
    execute(graph, x)
    emulated = time.perf_counter()
    qonnx_context(path, x)
    reference = time.perf_counter()
    compared = compare_quantized(path, x, graph)
    emulate_s, qonnx_s = emulated - loaded, reference - emulated
    return (f"| {name} | {'x'.join(map(str, x.shape[1:]))} | {len(x)} | {loaded - start:.1f} | {emulate_s:.2f} | "
            f"{qonnx_s:.2f} | {emulate_s / qonnx_s:.2f} | {_peak_mb()} | {compared.tensors} | "
            f"{sum(compared.mismatches.values())} of {compared.values:,} | {compared.first_off_tie} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=[*SMALL, "bnn_resnet18_8w8a"])
    parser.add_argument("--samples", type=int, default=2)
    args = parser.parse_args()
    print("| model | input | batch | import s | emulate s | qonnx s | emulate / qonnx | peak MB | quantized "
          "tensors | codes differing | of the first differing tensor's, off a float32 tie |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        for name in args.names:
            print(measure(name, args.samples, Path(directory)), flush=True)


if __name__ == "__main__":
    main()
