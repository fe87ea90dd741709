"""fxhls_cast (templates/rtl) against fxhls.fixed.quantize, with ==: every input code of
small types for every rounding/overflow pair, and random codes of wide types.

All casts are instances of one generated wrapper, so one Verilator build serves the test.
"""

from __future__ import annotations

import random
from pathlib import Path

import jinja2
import numpy as np

from fxhls.fixed import OVERFLOW_MODES, ROUNDING_MODES, FixedType, quantize
from fxhls.rtl.library import library_sources
from fxhls.sim.verilator import build, run_bench

SMALL_BITS, WIDE_BITS, WIDE_SAMPLES = 8, 40, 600

# (W_IN, F_IN, SIGNED_IN, W_OUT, F_OUT, SIGNED_OUT) and what each one exercises.
SMALL_FORMATS = [
    (7, 4, 1, 4, 1, 1),  # drops 3 bits, overflows
    (6, 3, 0, 3, 1, 1),  # unsigned to signed
    (6, 1, 1, 4, 2, 0),  # signed to unsigned, one bit appended
    (5, 7, 1, 3, -1, 1),  # drops 8 bits, more than the input has
    (8, 2, 1, 1, 0, 1),  # 1-bit signed output
    (8, 4, 0, 1, -2, 0),  # 1-bit unsigned output, negative fraction bits
    (8, 3, 1, 6, 2, 1),  # drops exactly one bit
    (4, 0, 1, 8, 2, 1),  # widens: nothing to round or overflow
]
WIDE_FORMATS = [
    (40, 20, 1, 24, 10, 1),
    (36, 30, 0, 20, 18, 1),
    (30, 5, 1, 40, 12, 1),
]


def _random_format(rng: random.Random) -> tuple:
    w_in, w_out = rng.randint(1, SMALL_BITS), rng.randint(1, 8)
    return (w_in, rng.randint(-3, w_in + 3), rng.randint(0, 1), w_out, rng.randint(-3, w_out + 3), rng.randint(0, 1))


def _casts() -> list[dict]:
    rng = random.Random(6)
    casts, offset = [], 0
    for rounding in ROUNDING_MODES:
        for overflow in OVERFLOW_MODES:
            formats = [(f, "x_small") for f in SMALL_FORMATS + [_random_format(rng), _random_format(rng)]]
            formats += [(f, "x_wide") for f in WIDE_FORMATS]
            for (w_in, f_in, s_in, w_out, f_out, s_out), source in formats:
                casts.append(dict(
                    w_in=w_in, f_in=f_in, signed_in=s_in, w_out=w_out, f_out=f_out, signed_out=s_out,
                    rounding=rounding, overflow=overflow, source=source, offset=offset,
                ))
                offset += w_out
    return casts


def _signed(codes: np.ndarray, width: int, signed: int) -> np.ndarray:
    codes = codes & ((1 << width) - 1)
    return np.where(codes >= 1 << (width - 1), codes - (1 << width), codes) if signed else codes


def _expected(cast: dict, inputs: np.ndarray) -> list[int]:
    codes = _signed(inputs, cast["w_in"], cast["signed_in"])
    out_type = FixedType(cast["w_out"], cast["w_out"] - cast["f_out"], bool(cast["signed_out"]), cast["rounding"], cast["overflow"])
    values = quantize(np.ldexp(codes.astype(np.float64), -cast["f_in"]), out_type)
    out_codes = np.ldexp(values, cast["f_out"]).astype(np.int64)
    return (out_codes & ((1 << cast["w_out"]) - 1)).tolist()


def test_cast_equals_quantize_for_every_mode_pair(tmp_path: Path):
    casts = _casts()
    out_bits = sum(c["w_out"] for c in casts)
    template = jinja2.Template((Path(__file__).parent / "rtl" / "cast_bank.v.j2").read_text(), trim_blocks=True, lstrip_blocks=True)
    wrapper = tmp_path / "cast_bank.v"
    wrapper.write_text(template.render(casts=casts, small_bits=SMALL_BITS, wide_bits=WIDE_BITS, out_bits=out_bits))
    build_dir = build([*library_sources("fxhls_cast"), wrapper], "cast_bank", optimize=False)

    rng = random.Random(7)
    steps = max(1 << SMALL_BITS, WIDE_SAMPLES)
    small = [step % (1 << SMALL_BITS) for step in range(steps)]
    wide = [rng.getrandbits(WIDE_BITS) for _ in range(steps)]
    result = run_bench(build_dir, "cast_bank", "fxhls.sim.sweep_bench", {"inputs": {"x_small": small, "x_wide": wide}, "outputs": ["y"]})

    outputs = result["y"]
    mismatched, compared = [], 0
    for cast in casts:
        inputs = np.array(small if cast["source"] == "x_small" else wide, dtype=np.int64)
        mask = (1 << cast["w_out"]) - 1
        got = [(y >> cast["offset"]) & mask for y in outputs]
        expected = _expected(cast, inputs)
        bad = sum(g != e for g, e in zip(got, expected))
        compared += len(expected)
        if bad:
            mismatched.append((cast, bad))
    assert compared == len(casts) * steps
    assert not mismatched, f"{len(mismatched)} of {len(casts)} casts differ from quantize: {mismatched[:5]}"
