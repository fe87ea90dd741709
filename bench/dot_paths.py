"""Time `fxhls.fixed.dot_with_bias` on an MNIST-sized dense layer and convolution, on each path.

* fast: the exact accumulator (never rounds nor overflows), summed at once in float64;
* stepwise: a narrowed rounding, saturating accumulator, step by step in float64;
* integer: a 64-bit rounding accumulator on 40-bit products, step by step in int64 codes;
* wide: an 80-bit accumulator on 40 x 40-bit products, in Python ints (object arrays).

Dense: 256 samples x 784 inputs (ap_ufixed<8,0>) by 128 x 784 weights (ap_fixed<8,1>) plus
a bias (ap_fixed<16,6>). Conv: 16 images 28 x 28 (im2col columns of 9) by 16 filters 3 x 3.
The integer and wide paths run on fewer samples (the figure is per call as stated).
Each figure is the fastest of --reps calls (the machine may be busy). Run from the repository root:
    .venv/bin/python bench/dot_paths.py [--reps 7]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from fxhls.fixed import FixedType, accumulator_type, dot_with_bias, quantize


def best_ms(call, reps: int) -> float:
    """The fastest of `reps` calls: the one least disturbed by other work on the machine."""
    call()  # warm: native kernels built, caches filled
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def layer(rng, samples: int, inputs: int, outputs: int, x_type, w_type, b_type, spread: float = 1.0):
    """Inputs in [0, spread), weights and bias around 0 with a deviation of 0.3 and 1 spread."""
    x = quantize(rng.uniform(0, spread, (samples, inputs)), x_type)
    w = quantize(rng.normal(0, 0.3 * spread, (outputs, inputs)), w_type)
    b = quantize(rng.normal(0, spread, outputs), b_type)
    return x, w, b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    reps = parser.parse_args().reps
    rng = np.random.default_rng(0)
    x_t, w_t, b_t = FixedType(8, 0, False), FixedType(8, 1), FixedType(16, 6)
    narrow = FixedType(16, 6, True, "AP_RND", "AP_SAT")
    dense = layer(rng, 256, 784, 128, x_t, w_t, b_t)
    image = quantize(rng.uniform(0, 1, (16, 26 * 26, 9)), x_t)  # im2col columns of 16 images
    conv_w, conv_b = quantize(rng.normal(0, 0.3, (16, 9)), w_t), quantize(rng.normal(0, 1, 16), b_t)
    wide_t = FixedType(40, 20)
    wide = layer(rng, 16, 784, 128, wide_t, wide_t, wide_t, spread=2.0**18)  # full-range 40-bit values
    medium = layer(rng, 16, 784, 128, FixedType(20, 10), wide_t, b_t, spread=2.0**8)
    cases = [
        ("dense fast", lambda: dot_with_bias(*dense, accumulator_type(x_t, w_t, 784, b_t))),
        ("dense stepwise", lambda: dot_with_bias(*dense, narrow)),
        ("conv fast", lambda: dot_with_bias(image, conv_w, conv_b, accumulator_type(x_t, w_t, 9, b_t))),
        ("conv stepwise", lambda: dot_with_bias(image, conv_w, conv_b, narrow)),
        ("dense integer, 16 samples", lambda: dot_with_bias(*medium, FixedType(64, 40, True, "AP_RND", "AP_SAT"),
                                                            FixedType(24, 12))),
        ("dense wide, 16 samples", lambda: dot_with_bias(*wide, FixedType(80, 40), FixedType(24, 12))),
    ]
    for name, call in cases:
        try:
            print(f"{name:28s} {best_ms(call, reps):9.2f} ms")
        except (ValueError, TypeError) as err:  # before fxhls could: a refusal, or no `out`
            print(f"{name:28s} refused: {err}")


if __name__ == "__main__":
    main()
