"""The error of fxhls's fixed-point Softmax (`fxhls.ir.ops.softmax`, at its default internal
types) against float softmax, on random logits.

For each setting (input type, output type, classes C, logit scale) it draws 20,000 logit
vectors from N(0, scale^2), quantizes them to the input type as the hardware's input is,
and compares the emulator's Softmax (what csim and cosim compute, bit for bit) with float64
softmax of the same quantized logits (the algorithm's own error) and of the float logits
(with the input's quantization too). It prints the largest absolute error (also in output
lsbs), the top-class agreement (the lowest index among tied outputs, as ArgMax takes it)
and the table sizes.

Run from the repository root:  .venv/bin/python bench/softmax_error.py
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import FixedType, quantize
from fxhls.ir import Node
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.ops.softmax import Softmax, default_output_type, softmax_types, table_sizes

SAMPLES = 20_000
# (input type, output type or None for the default after a quantizer, classes, logit scale)
SETTINGS = [
    ("ap_fixed<16,6>", "ap_fixed<16,6>", 10, 3.0),
    ("ap_fixed<16,6>", "ap_fixed<16,6>", 10, 1.0),
    ("ap_fixed<16,6>", "ap_fixed<16,6>", 100, 3.0),
    ("ap_fixed<16,6>", "ap_fixed<16,6>", 1000, 3.0),
    ("ap_fixed<10,4,AP_RND,AP_SAT>", "ap_fixed<10,4>", 10, 2.0),
    ("ap_fixed<8,3,AP_RND,AP_SAT>", None, 10, 1.0),
]


def float_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def measure(in_spelling: str, out_spelling: str | None, classes: int, scale: float) -> dict:
    x_type = FixedType.parse(in_spelling)
    out_type = FixedType.parse(out_spelling) if out_spelling else default_output_type(x_type)
    node = Node("Softmax", "softmax", ["x"], ["y"], type_attrs(out_type))
    logits = np.random.default_rng(0).normal(size=(SAMPLES, classes)) * scale
    x = quantize(logits, x_type)
    y = Softmax.execute(node, [x], [x_type])[0]
    exact, unquantized = float_softmax(x), float_softmax(logits)
    types = softmax_types(node, x_type, classes)
    return {
        "types": f"{x_type} -> {out_type}", "classes": classes, "scale": scale,
        "error": np.abs(y - exact).max(), "lsbs": np.abs(y - exact).max() / out_type.lsb,
        "error_float_logits": np.abs(y - unquantized).max(),
        "top": (y.argmax(axis=1) == exact.argmax(axis=1)).mean(),
        "top_float_logits": (y.argmax(axis=1) == unquantized.argmax(axis=1)).mean(),
        "internal": f"exp {types.exp}, sum {types.sum}, reciprocal {types.reciprocal}",
        **table_sizes(types),
    }


def main() -> None:
    print(f"{SAMPLES:,} random logit vectors per row; float64 softmax as the reference\n")
    print("| input -> output | C | logits | max abs error (output lsbs) | top class equal | with the float logits: "
          "max abs error, top class | exp table | reciprocal table | internal types |")
    print("|---|---:|---|---:|---:|---|---:|---:|---|")
    for setting in SETTINGS:
        r = measure(*setting)
        print(f"| `{r['types']}` | {r['classes']} | N(0, {r['scale']:g}^2) | {r['error']:.5f} ({r['lsbs']:.2f}) | "
              f"{100 * r['top']:.2f}% | {r['error_float_logits']:.5f}, {100 * r['top_float_logits']:.2f}% | "
              f"{r['exp']:,} | {r['reciprocal']:,} | {r['internal']} |")


if __name__ == "__main__":
    main()
