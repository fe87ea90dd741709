"""`fxhls build` of a field CNN (tests/cnn_zoo_models.py's small MobileNet-v1, with an
input quantizer), whose time the RTL compute layers' ROM words dominate (a depthwise Conv's
MVU reads its window densely, zeros outside each group): packing the codes into words
(`fxhls.rtl.compute._pack`, numpy) and writing them as Verilog literals
(`fxhls.rtl.verilog.sized_literals`), against the plain Python of the same, swapped in
for a second build in the same run (each code shifted into a Python int; each word
through `sized_literal` and the parameter check of `literal`). The two builds' Verilog
must be identical.

Run from the repository root:  .venv/bin/python bench/rtl_words.py [NAME]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from cnn_zoo_models import export  # noqa: E402  (the models the tests check)

from fxhls.hls.build import build_project  # noqa: E402
from fxhls.rtl.verilog import literal, sized_literal  # noqa: E402


def _plain_pack(rows, bits: int) -> tuple[int, ...]:
    mask = (1 << bits) - 1
    return tuple(sum((int(code) & mask) << (i * bits) for i, code in enumerate(row)) for row in rows)


def _plain_words(words, bits: int) -> list[str]:
    return [literal(sized_literal(word, bits)) for word in words]


def _build(path: Path, out: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    build_project(path, "ultra96v2", out)
    return time.perf_counter() - start, {f.name: f.read_text() for f in sorted((out / "rtl").glob("*.v"))}


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "mobilenet_v1_4b"
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "m.onnx"
        export(name, path, samples=1, quantized_input=True)
        with mock.patch("fxhls.rtl.compute._pack", _plain_pack), mock.patch("fxhls.rtl.layers._words", _plain_words):
            plain_s, plain_rtl = _build(path, Path(directory) / "plain")
        fxhls_s, fxhls_rtl = _build(path, Path(directory) / "fxhls")
        assert plain_rtl == fxhls_rtl and plain_rtl
        size = sum(len(text) for text in fxhls_rtl.values())
        print(f"{name}: fxhls build {fxhls_s:.1f} s, with plain Python ROM words {plain_s:.1f} s "
              f"({plain_s / fxhls_s:.2f}x); identical Verilog, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
