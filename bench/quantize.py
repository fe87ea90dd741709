"""Benchmark `fxhls.fixed.quantize` against plain torch and the bit-exact peers.

For each fixed-point type below, on float32 values `torch.randn(n) * scale`
(scale = half the type's range, so about 5% of values saturate or wrap), it
measures in the same run:

* fxhls: `quantize(x, t)` on all `n` values (default 16M);
* baseline: the plainest torch expression for the same modes on the same values,
  e.g. `torch.clamp(torch.round(x * 2**F), lo, hi) / 2**F` for AP_RND_CONV/AP_SAT
  (it is not bit-exact in every corner: the speed goal is relative to it);
* the peers apytypes and fxpmath, from a NumPy float array to their quantized
  array, on the first `--peer-n` values only (they can be much slower). Their
  speedup is taken against fxhls timed on that same slice, as per-element
  throughput depends on the size (cache). Their input arrays and apytypes'
  exact intermediate format are prepared outside the timed call, which favours
  the peers.

Each timing is the median of `--reps` repetitions after one warm-up, with the
five timings interleaved within every repetition so machine drift hits all of
them. A second table counts, on a small sample rich in exact ties and values one
float32 ulp below a tie, the elements where each peer's values differ from fxhls.

Run from the repository root:  .venv/bin/python bench/quantize.py [-n N] [--reps R]
"""

from __future__ import annotations

import argparse
import statistics
import time

import apytypes
import fxpmath
import numpy as np
import torch
from fxpmath import Fxp

from fxhls.fixed import FixedType, quantize

# (type, goal for the time ratio fxhls/baseline, or None where none was set)
ROWS = [
    (FixedType(8, 3, rounding="AP_RND_CONV", overflow="AP_SAT"), 1.5),
    (FixedType(8, 3, rounding="AP_RND", overflow="AP_WRAP"), 2.0),
    (FixedType(8, 3), None),
    (FixedType(16, 6, rounding="AP_RND_CONV", overflow="AP_SAT"), 1.5),
]
PEER_GOAL = 10.0  # fxhls should be at least this many times faster than each peer

# C++ mode -> (apytypes mode, fxpmath mode)
ROUNDING = {
    "AP_RND_CONV": (apytypes.QuantizationMode.RND_CONV, "around"),  # ties to even
    "AP_RND": (apytypes.QuantizationMode.RND, "nearest_posinf"),  # ties toward +inf
    "AP_TRN": (apytypes.QuantizationMode.TRN, "floor"),  # toward -inf
}
OVERFLOW = {
    "AP_SAT": (apytypes.OverflowMode.SAT, "saturate"),
    "AP_WRAP": (apytypes.OverflowMode.WRAP, "wrap"),  # two's complement
}


def baseline(t: FixedType):
    """The plainest torch code for `t`'s modes (signed types only)."""
    scale, low, high, period = 2.0**t.frac_bits, float(t.min_code), float(t.max_code), 2.0**t.width
    round_code = {
        "AP_RND_CONV": torch.round,
        "AP_RND": lambda v: torch.floor(v + 0.5),
        "AP_TRN": torch.floor,
    }[t.rounding]
    if t.overflow == "AP_SAT":
        return lambda x: torch.clamp(round_code(x * scale), low, high) / scale
    return lambda x: (torch.remainder(round_code(x * scale) - low, period) + low) / scale


def apytypes_quantizer(t: FixedType, sample: np.ndarray):
    """apytypes: load `sample`-like arrays exactly into a wide format, then `cast` to `t`.

    `from_array` itself always rounds ties away from zero and wraps, so it must
    only be given a format that holds every input value exactly.
    """
    _, exponents = np.frexp(sample[sample != 0])  # |x| = m * 2**e with 0.5 <= m < 1
    int_bits, frac_bits = int(exponents.max()) + 1, 24 - int(exponents.min())
    quantization, overflow = ROUNDING[t.rounding][0], OVERFLOW[t.overflow][0]

    def run(x: np.ndarray):
        wide = apytypes.APyFixedArray.from_array(x, int_bits=int_bits, frac_bits=frac_bits)
        return wide.cast(
            int_bits=t.int_bits, frac_bits=t.frac_bits, quantization=quantization, overflow=overflow
        )

    return run


def fxpmath_quantizer(t: FixedType):
    rounding, overflow = ROUNDING[t.rounding][1], OVERFLOW[t.overflow][1]
    return lambda x: Fxp(
        x, signed=True, n_word=t.width, n_frac=t.frac_bits, rounding=rounding, overflow=overflow
    )


def median_times(calls: list, reps: int) -> list[float]:
    """Median seconds of each `(function, argument)`, repetitions interleaved."""
    for fn, arg in calls:
        fn(arg)  # warm-up
    times = [[] for _ in calls]
    for _ in range(reps):
        for (fn, arg), samples in zip(calls, times):
            start = time.perf_counter()
            fn(arg)
            samples.append(time.perf_counter() - start)
    return [statistics.median(samples) for samples in times]


def inputs(t: FixedType, n: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, generator=generator) * (-t.min / 2)


def check_sample(t: FixedType, n: int) -> torch.Tensor:
    """Random values; a quarter moved onto exact ties, a quarter one ulp below a tie."""
    x = inputs(t, n, seed=1)
    lsb = t.lsb
    ties = (torch.floor(x[: n // 2] / lsb) + 0.5) * lsb
    x[: n // 4] = ties[: n // 4]
    x[n // 4 : n // 2] = torch.nextafter(ties[n // 4 :], torch.tensor(-float("inf")))
    return x


def mismatches(t: FixedType, n: int) -> tuple[int, int]:
    """Elements of a check sample where apytypes and fxpmath differ from fxhls."""
    x = check_sample(t, n)
    ours = quantize(x, t).double().numpy()
    apy = apytypes_quantizer(t, x.numpy())(x.numpy()).to_numpy()
    fxp = np.asarray(fxpmath_quantizer(t)(x.numpy()).get_val(), dtype=np.float64)
    return int((apy != ours).sum()), int((fxp != ours).sum())


def measure(t: FixedType, n: int, peer_n: int, reps: int) -> list[float]:
    """Throughputs in Melem/s: fxhls, baseline, fxhls on the peer slice, apytypes, fxpmath."""
    x = inputs(t, n, seed=0)
    peer_x = x[:peer_n].clone()
    peer_np = peer_x.numpy()
    calls = [
        (lambda v: quantize(v, t), x),
        (baseline(t), x),
        (lambda v: quantize(v, t), peer_x),
        (apytypes_quantizer(t, peer_np), peer_np),
        (fxpmath_quantizer(t), peer_np),
    ]
    seconds = median_times(calls, reps)
    sizes = [n, n, peer_n, peer_n, peer_n]
    return [size / s / 1e6 for size, s in zip(sizes, seconds)]


def label(t: FixedType) -> str:
    """The C++ spelling with both modes written out."""
    return f"ap_fixed<{t.width},{t.int_bits},{t.rounding},{t.overflow}>"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1 << 24, help="elements for fxhls and baseline")
    parser.add_argument(
        "--peer-n", type=int, default=1 << 20, help="elements for apytypes and fxpmath"
    )
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions (median taken)")
    parser.add_argument(
        "--check-n", type=int, default=10_000, help="elements in the bit-exactness check"
    )
    args = parser.parse_args()
    peer_n = min(args.peer_n, args.n)

    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), apytypes "
        f"{apytypes.__version__}, fxpmath {fxpmath.__version__}"
    )
    print(
        f"fxhls and baseline on {args.n:,} float32 values; apytypes and fxpmath on the first "
        f"{peer_n:,} (throughput per element), compared with fxhls timed on that same slice; "
        f"median of {args.reps} interleaved repetitions.\n"
    )
    print(
        "| type | fxhls Melem/s | baseline Melem/s | ratio fxhls/baseline (time) | goal "
        "| fxhls Melem/s, peer size | apytypes Melem/s | fxpmath Melem/s "
        "| speedup vs apytypes | speedup vs fxpmath |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for t, goal in ROWS:
        ours, base, ours_small, apy, fxp = measure(t, args.n, peer_n, args.reps)
        ratio = base / ours
        goal_text = f"<= {goal}x: {verdict(ratio <= goal)}" if goal else "none set"
        print(
            f"| `{label(t)}` | {ours:.0f} | {base:.0f} | {ratio:.2f}x | {goal_text} "
            f"| {ours_small:.0f} | {apy:.1f} | {fxp:.1f} "
            f"| {ours_small / apy:.1f}x ({verdict(ours_small / apy >= PEER_GOAL)}) "
            f"| {ours_small / fxp:.1f}x ({verdict(ours_small / fxp >= PEER_GOAL)}) |"
        )

    print(
        f"\nBit-exactness check, {args.check_n:,} values per type "
        "(1/4 exact ties, 1/4 one ulp below a tie):\n"
    )
    print("| type | apytypes mismatches | fxpmath mismatches |")
    print("|---|---:|---:|")
    for t, _ in ROWS:
        apy, fxp = mismatches(t, args.check_n)
        print(f"| `{label(t)}` | {apy} | {fxp} |")


if __name__ == "__main__":
    main()
