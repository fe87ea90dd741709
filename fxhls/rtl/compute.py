"""Parameters of the matrix-vector unit (templates/rtl/compute/fxhls_mvu.v) and its ROMs.

`mvu_config` turns a weight matrix, its bias and the types around it into the
Verilog parameters of `fxhls_mvu` and the contents of its two ROMs (weight words
and neuron words); `fxhls.rtl.layers` calls it for Gemm and Conv nodes.

Folding (as in FINN): SIMD input lanes per beat and PE output neurons in parallel,
so an input vector of `in_features` values arrives as SF = in_features / SIMD beats,
its `out_features` outputs leave as NF = out_features / PE beats, and the MVU takes
SF * NF clocks per vector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fxhls.deploy.packing import to_codes
from fxhls.fixed import FixedType, quantize

# fxhls_dot_khot's term: {used, negative, shift}.
_USED, _NEGATIVE = 2, 1


@dataclass(frozen=True)
class WeightLanes:
    """How weights sit in the ROM: `codes` (O, K) int64 are each weight's ROM bits
    (`bits` of them); a code stands for a value with `frac` fractional bits whose
    magnitude is below 2**`magnitude_bits`."""

    kind: str  # "mul": the weight's code; "khot": K shift-add terms; "xnor": one bit
    codes: np.ndarray
    bits: int
    frac: int
    magnitude_bits: int
    signed: bool = True
    k: int = 1
    shift_bits: int = 1


@dataclass(frozen=True)
class MvuConfig:
    """Everything `fxhls_mvu` is parameterised with, and its ROM contents."""

    lanes: WeightLanes
    simd: int
    pe: int
    sf: int
    nf: int
    x_bits: int
    x_signed: bool
    x_binary: bool
    x_pad: int  # padding flags per beat, one per window tap (binarized inputs of a padded convolution), or 0
    dot_bits: int
    dot_frac: int
    acc: FixedType
    stepwise: bool
    out: FixedType | None  # None: thresholded, one bit per neuron
    weight_words: tuple[int, ...]  # at address nf * SF + sf
    neuron_words: tuple[int, ...]  # at address nf
    dot_stage: int = 0  # adder levels between the dot product's pipeline registers; 0: none

    @property
    def dot_registers(self) -> int:
        """The dot product's pipeline registers (fxhls_mvu's REGS): the products, then every
        `dot_stage` levels of the adder tree over SIMD lanes; each adds a clock of latency,
        none to the interval."""
        return dot_registers(self.simd, self.dot_stage)

    @property
    def out_bits(self) -> int:
        return 1 if self.out is None else self.out.width

    @property
    def in_bits(self) -> int:
        """Bits of an input beat."""
        return self.x_pad + self.simd * self.x_bits

    @property
    def weight_word_bits(self) -> int:
        return self.pe * self.simd * self.lanes.bits

    @property
    def neuron_word_bits(self) -> int:
        return self.pe * (self.acc.width if self.out is not None else 2 * self.acc.width + 3)

    @property
    def cycles_per_vector(self) -> int:
        """Clocks between two input vectors in steady state (the initiation interval)."""
        return self.sf * self.nf

    def parameters(self) -> dict[str, int | str]:
        """The Verilog parameters of `fxhls_mvu`."""
        out = self.out or FixedType(1, 1, False)
        return {
            "KIND": self.lanes.kind, "SIMD": self.simd, "PE": self.pe, "SF": self.sf, "NF": self.nf,
            "X_W": self.x_bits, "X_SIGNED": int(self.x_signed), "X_BINARY": int(self.x_binary),
            "X_PAD": self.x_pad, "W_W": self.lanes.bits, "W_SIGNED": int(self.lanes.signed),
            "K": self.lanes.k, "SHIFT_W": self.lanes.shift_bits, "DOT_W": self.dot_bits, "DOT_FRAC": self.dot_frac,
            "ACC_W": self.acc.width, "ACC_FRAC": self.acc.frac_bits, "ACC_SIGNED": int(self.acc.signed),
            "STEPWISE": int(self.stepwise), "ACC_ROUNDING": self.acc.rounding, "ACC_OVERFLOW": self.acc.overflow,
            "THRESHOLD": int(self.out is None), "OUT_W": out.width, "OUT_FRAC": out.frac_bits,
            "OUT_SIGNED": int(out.signed), "OUT_ROUNDING": out.rounding, "OUT_OVERFLOW": out.overflow,
            "DOT_STAGE": self.dot_stage,
        }


def dot_registers(simd: int, dot_stage: int) -> int:
    """Pipeline registers of a dot product over `simd` lanes registered every `dot_stage`
    adder levels (0: none): ceil(ceil(log2(simd)) / dot_stage), as fxhls_adder_tree places them."""
    return -(-math.ceil(math.log2(simd)) // dot_stage) if dot_stage else 0


def mvu_config(x_type: FixedType | None, lanes: WeightLanes, bias: np.ndarray | None, acc: FixedType,
               stepwise: bool, out: FixedType | None, simd: int, pe: int,
               thresholds: tuple[np.ndarray, list[int]] | None = None, x_pad: int = 0,
               dot_stage: int = 0) -> MvuConfig:
    """The MVU computing `out(acc_t s = bias[o]; for (k) s += W[o, k] * x[k];)`.

    `x_type` is the input's type, or None for binarized inputs (-1/+1 as one bit).
    `lanes` holds the weights (columns in the order the input beats bring them);
    `stepwise`: every step is cast into `acc` (a narrowed accumulator that may round or
    overflow; then the order matters and SIMD must be 1). `out` is the output type, or
    None with `thresholds` = (values[O], directions[O]): the output is then +1 (bit 1)
    where s >= value (direction +1) or s <= value (direction -1). `x_pad`: the padding
    flags each beat carries above its lanes (one per equal group of lanes), or 0.
    `dot_stage`: the adder levels between the dot product's pipeline registers (0: none;
    `MvuConfig.dot_registers`).
    """
    out_features, in_features = lanes.codes.shape
    if simd < 1 or pe < 1 or in_features % simd or out_features % pe:
        raise ValueError(f"folding SIMD={simd}, PE={pe} must divide in_features={in_features} "
                         f"and out_features={out_features}")
    if stepwise and simd != 1:
        raise ValueError(f"accumulator {acc} rounds or saturates at each step, so the order matters: "
                         f"it needs SIMD=1, got SIMD={simd}")
    if x_pad and simd % x_pad:
        raise ValueError(f"{x_pad} padding flags cannot each mark an equal group of SIMD={simd} lanes")
    if (thresholds is None) == (out is None):
        raise ValueError("an MVU has either an output type or thresholds, not both or neither")
    x_frac = 0 if x_type is None else x_type.frac_bits
    x_bits = 1 if x_type is None else x_type.width
    dot_frac = x_frac + lanes.frac
    if not stepwise and acc.frac_bits < dot_frac:
        raise ValueError(f"accumulator {acc} would drop product bits (2**-{dot_frac}): it must be stepwise")
    if lanes.kind == "xnor":
        dot_bits = math.ceil(math.log2(simd)) + 3
    else:
        dot_bits = x_bits + lanes.magnitude_bits + math.ceil(math.log2(simd * lanes.k)) + 4
    sf, nf = in_features // simd, out_features // pe
    by_address = lanes.codes.reshape(nf, pe, sf, simd).transpose(0, 2, 1, 3).reshape(nf * sf, pe * simd)
    init = to_codes(quantize(bias, acc) if bias is not None else np.zeros(out_features), acc.frac_bits).tolist()
    if thresholds is None:
        neurons, neuron_bits = init, acc.width
    else:
        neurons, neuron_bits = _threshold_words(init, acc, *thresholds), 2 * acc.width + 3
    return MvuConfig(lanes, simd, pe, sf, nf, x_bits, x_type is not None and x_type.signed, x_type is None,
                     x_pad, dot_bits, dot_frac, acc, stepwise, out, _pack(by_address, lanes.bits),
                     _pack([neurons[n * pe:(n + 1) * pe] for n in range(nf)], neuron_bits), dot_stage)


def multiplier_lanes(weights: np.ndarray, weight_type: FixedType) -> WeightLanes:
    """Weights multiplied as they are: each one's `ap_fixed` code."""
    codes = to_codes(weights, weight_type.frac_bits)
    return WeightLanes("mul", codes, weight_type.width, weight_type.frac_bits, weight_type.width, weight_type.signed)


def khot_lanes(signs: np.ndarray, exponents: np.ndarray) -> WeightLanes:
    """K-hot weights, each `sum_j signs[..., j] * 2**exponents[..., j]` (the IR's
    `facts["terms"]`, shape (O, in_features, K)): shifts and additions, no multiplier."""
    used = signs != 0
    low = int(exponents[used].min()) if used.any() else 0
    shifts = np.where(used, exponents - low, 0)
    shift_bits = max(1, int(shifts.max()).bit_length())
    k = signs.shape[-1]
    codes = np.zeros(signs.shape[:-1], dtype=np.int64)
    for j in reversed(range(k)):  # term 0 in the lowest bits
        term = np.where(used[..., j], _USED, 0) + np.where(signs[..., j] < 0, _NEGATIVE, 0)
        codes = (codes << (shift_bits + 2)) | (term << shift_bits) | shifts[..., j]
    magnitude = (1 << shift_bits) + math.ceil(math.log2(k))  # |code| < K * 2**(2**shift_bits - 1)
    return WeightLanes("khot", codes, k * (shift_bits + 2), -low, magnitude, True, k, shift_bits)


def binary_lanes(weights: np.ndarray, x_binary: bool) -> WeightLanes:
    """Weights -1/+1: XNOR with binarized inputs, else one-term K-hot (+-2**0)."""
    if not (np.abs(weights) == 1).all():
        raise ValueError("binary weights must all be -1 or +1")
    if x_binary:
        return WeightLanes("xnor", (weights > 0).astype(np.int64), 1, 0, 1)
    signs = np.sign(weights).astype(np.int64)[..., None]
    return khot_lanes(signs, np.zeros_like(signs))


def _threshold_words(init: list[int], acc: FixedType, values: np.ndarray, directions: list[int]) -> list[int]:
    """{direction, threshold (ACC_W+2 bits), initial value (ACC_W bits)} per neuron; a
    threshold beyond the accumulator's range is clamped to one step past it, which
    compares alike."""
    thresholds = np.clip(to_codes(values, acc.frac_bits), acc.min_code - 1, acc.max_code + 1).tolist()
    width = acc.width
    return [(int(d > 0) << (2 * width + 2)) | ((t & ((1 << (width + 2)) - 1)) << width) | (i & ((1 << width) - 1))
            for i, t, d in zip(init, thresholds, directions)]


def _pack(rows, bits: int) -> tuple[int, ...]:
    """Each row of codes as one integer: element i at bits [i*bits, (i+1)*bits) (two's
    complement, wrapped to `bits`). Codes of at most 62 bits go through numpy: each row's
    bits laid out little-endian and read as one integer."""
    mask = (1 << bits) - 1
    if len(rows) == 0:
        return ()
    if bits > 62:
        return tuple(sum((int(code) & mask) << (i * bits) for i, code in enumerate(row)) for row in rows)
    codes = np.asarray(rows, dtype=np.int64).reshape(len(rows), -1) & mask
    planes = (codes[..., None] >> np.arange(bits, dtype=np.int64)) & 1
    packed = np.packbits(planes.astype(np.uint8).reshape(len(rows), -1), axis=1, bitorder="little")
    return tuple(int.from_bytes(row.tobytes(), "little") for row in packed)
