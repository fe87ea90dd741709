"""A multiply-and-shift requantization derived from a float chain, proven equal to it.

Per channel, the codes q(i) that a float chain and its quantizer give the integer codes i
of an exact value (an accumulator) are monotone in i (`fxhls.ir.requantize`). In a rising
frame j = sign * i (sign -1 where q falls) the multiply-and-shift
m(j) = clamp(round((j*M + B) / 2^S), low, high) (`fxhls.fixed.mul_shift`), with M > 0 and
[low, high] the codes q takes at the two ends of i's range, is monotone too, and reaches a
code u in (low, high] from T'(u) = ceil((c(u) - B) / M) on: c(u) = u*2^S for the floor
(AP_TRN); for a rounding to nearest, c(u) = (u - 1/2)*2^S, plus 1 where a tie at
u - 1/2 goes down (AP_RND_CONV: to the even code; AP_RND_INF: away from zero;
AP_RND_ZERO: toward zero).

The proof, for every code u in (low, high]: T'(u) lies inside the range and both
q(T'(u)) >= u > q(T'(u) - 1) and m(T'(u)) >= u > m(T'(u) - 1), q being the float32
chain itself and m `mul_shift_codes`. Both are monotone, so both reach u exactly from
T'(u) on, for every u: m and q are equal on every value of the range (both lie in
[low, high] there). Four evaluations per code that the channel reaches.

The derivation: the true thresholds T(u) (the smallest j with q(j) >= u, by binary
search) of a few codes spread over (low, high]; then, per rounding, for the smallest
shift S, the smallest M within MULTIPLIER_BITS and a B with T'(u) = T(u) on all of them:
M(T - 1) < c(u) - B <= M*T for each, which holds for some B exactly when the spread of
d(u) = c(u) - M*T(u) over the codes is below M (a convex function of M, minimised by a
ternary search). Codes where the proof fails add their true thresholds and the fit is
repeated, at most ROUNDS times. Float32 rounding near a code boundary can move a
threshold off every such progression: then a multiply-and-shift with exceptions
(`fxhls.ir.requantize_exceptions`) corrects the few accumulator ranges where it differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fxhls.fixed import FixedType
from fxhls.fixed.mul_shift import MUL_SHIFT_ROUNDING, mul_shift_codes

from .requantize import Codes, chain_codes, first_reaching, range_ends
from .requantize_exceptions import with_exceptions

MULTIPLIER_BITS = 18  # signed: the B port of a DSP48E2 (27 x 18)
MAX_PROVEN_CODES = 1 << 20  # codes per channel whose thresholds the proof evaluates
ROUNDS = 6
_SAMPLES = 33  # codes per channel whose true thresholds the first fit uses
_ADDED = 32  # failing codes per channel added to the samples in a round
_INT64_ROOM = 61  # magnitude bits of the int64 work, so that a difference of two still fits
_CHUNK = 1 << 20  # values evaluated at once in the proof


@dataclass(frozen=True)
class MulShiftConstants:
    """clamp(round((i * multiplier[c] + bias[c]) / 2^shift), low[c], high[c]) per channel c,
    plus the correction of the exception range (first, last, correction) of
    exceptions[c] that i lies in (none where exceptions is empty)."""
    multiplier: list[int]
    bias: list[int]
    shift: int
    rounding: str
    low: list[int]
    high: list[int]
    exceptions: list[list[tuple[int, int, int]]] = field(default_factory=list)

    @property
    def exception_count(self) -> int:
        """The most exception ranges of a channel."""
        return max((len(e) for e in self.exceptions), default=0)

    @property
    def multiplier_bits(self) -> int:
        """The signed width that holds every multiplier."""
        return max(abs(m).bit_length() for m in self.multiplier) + 1


def mul_shift(chain: dict, quant: dict, source: FixedType, channels: int,
              exceptions: bool = True) -> MulShiftConstants | str:
    """The proven multiply-and-shift of quant(chain(v)) for every v of type `source` (with
    exceptions where no exact one exists and `exceptions`), or why there is none (a phrase)."""
    codes = chain_codes(chain, quant, source)
    ends = range_ends(codes, source, channels).astype(np.int64)
    frame = _Frame(codes, ends[:, 0] <= ends[:, 1], source)
    low, high = ends.min(axis=1), ends.max(axis=1)
    reached = int((high - low).max())
    if reached > MAX_PROVEN_CODES:
        return f"it reaches {reached + 1:,} codes in a channel, more than the {MAX_PROVEN_CODES + 1:,} a proof checks"
    if source.width + MULTIPLIER_BITS > _INT64_ROOM or reached.bit_length() + 2 > _INT64_ROOM - MULTIPLIER_BITS:
        return f"its input ({source}) is too wide for a proof in 64-bit integers"
    varying = high > low
    spread = np.linspace(0, 1, _SAMPLES)[None, :] * np.maximum(high - low - 1, 0)[:, None]
    samples = np.minimum(low[:, None] + 1 + np.round(spread).astype(np.int64), high[:, None])
    found = frame.thresholds(samples)
    why = "it is constant"
    for rounding in MUL_SHIFT_ROUNDING if varying.any() else ("AP_TRN",):
        result = _fit_and_prove(frame, rounding, samples, found, low, high, varying)
        if isinstance(result, MulShiftConstants):
            return result
        why = result if rounding == "AP_TRN" else why
    if not exceptions:
        return why
    corrected = with_exceptions(frame, low, high, source)
    if isinstance(corrected, str):
        return f"{why}; with exceptions: {corrected}"
    multiplier, bias, shift, exceptions = corrected
    return frame.unframed(MulShiftConstants(multiplier, bias, shift, "AP_TRN", low.tolist(), high.tolist(),
                                            exceptions))


def _fit_and_prove(frame, rounding, samples, found, low, high, varying) -> MulShiftConstants | str:
    for _ in range(ROUNDS):
        targets = _Targets(rounding, samples[:, 0])
        fit = _fit(targets, samples, found, varying)
        if fit is None:
            return f"no multiplier of at most {MULTIPLIER_BITS} bits matches its thresholds"
        multiplier, relative_bias, shift = fit
        # B on j itself: c(u_ref) - M * T(u_ref) more than B on j - T(u_ref) with c less c(u_ref)
        bias = [int(b) + int(c) - int(m) * int(t) for b, c, m, t in
                zip(relative_bias, targets.absolute(samples[:, :1], shift)[:, 0], multiplier, found[:, 0])]
        constants = MulShiftConstants([int(m) if v else 0 for m, v in zip(multiplier, varying)],
                                      [b if v else 0 for b, v in zip(bias, varying)], shift, rounding, low.tolist(),
                                      high.tolist())
        failing = frame.failures(constants, (multiplier, np.array(relative_bias), targets, found[:, 0]), varying)
        if failing is None:
            return frame.unframed(constants)
        samples = np.concatenate([samples, failing], axis=1)
        found = np.concatenate([found, frame.thresholds(failing)], axis=1)
    return f"no multiplier matched its thresholds after {ROUNDS} rounds of corrections"


class _Targets:
    """c(u) - c(u_ref) per channel (int64), for a rounding and a shift (see the module docstring)."""

    def __init__(self, rounding: str, reference: np.ndarray):
        self.rounding, self.reference = rounding, reference

    def __call__(self, u: np.ndarray, shift: int) -> np.ndarray:
        """c(u) - c(u_ref) for int64 codes u (channels first), in int64."""
        if self.rounding == "AP_TRN":
            return (u - self.reference[:, None]) << shift
        if shift == 0:
            return np.zeros(u.shape, dtype=np.int64)  # no rounding to nearest without a shift: no fit
        return ((u - self.reference[:, None]) << shift) + self._tie_down(u) - self._tie_down(self.reference[:, None])

    def absolute(self, u: np.ndarray, shift: int) -> np.ndarray:
        """c(u) as Python ints."""
        u = u.astype(object)
        if self.rounding == "AP_TRN":
            return u * (1 << shift)
        return (2 * u - 1) * (1 << shift >> 1) + self._tie_down(u).astype(object)

    def _tie_down(self, u: np.ndarray) -> np.ndarray:
        """1 where a tie at u - 1/2 rounds down to u - 1, else 0."""
        return {"AP_RND_CONV": u % 2 == 1, "AP_RND_INF": u <= 0, "AP_RND_ZERO": u >= 1}[self.rounding].astype(np.int64)


class _Frame:
    """The chain's codes in the rising frame j = sign * i (int64 indices, channels first)."""

    def __init__(self, codes: Codes, rising: np.ndarray, source: FixedType):
        self.codes, self.rising, self.source = codes, rising, source
        self.sign = np.where(rising, 1, -1)
        self.lowest = np.where(rising, source.min_code, -source.max_code)[:, None]
        self.highest = np.where(rising, source.max_code, -source.min_code)[:, None]

    def thresholds(self, targets: np.ndarray) -> np.ndarray:
        """T(u): the smallest j whose code is at least u, for each target u."""
        found = first_reaching(self.codes, targets, self.rising, self.source)
        return (found * self.sign[:, None]).astype(np.int64)

    def code(self, j: np.ndarray) -> np.ndarray:
        return self.codes((np.clip(j, self.lowest, self.highest) * self.sign[:, None]).astype(np.float64))

    def failures(self, fit: MulShiftConstants, relative: tuple, varying) -> np.ndarray | None:
        """Codes (channels, _ADDED) where the proof of `fit` (its constants on the frame's j)
        fails, or None where it holds for every code of every channel. `relative`: M, B on
        j - T(u_ref), the targets c(u) - c(u_ref) and T(u_ref), to find T'(u) in int64."""
        multiplier, relative_bias, targets, reference_threshold = relative
        low, high = np.array(fit.low), np.array(fit.high)
        constants = [np.array(v, dtype=object)[:, None] for v in (fit.multiplier, fit.bias, fit.low, fit.high)]

        def m(j):
            return mul_shift_codes(j, *constants[:2], fit.shift, *constants[2:], fit.rounding)

        span, wrong_codes = int((high - low).max()), [[] for _ in low]
        block = max(1, _CHUNK // len(low))
        for start in range(0, span, block):
            u = np.minimum(low[:, None] + 1 + start + np.arange(min(block, span - start))[None, :], high[:, None])
            ceiling = -((relative_bias[:, None] - targets(u, fit.shift)) // multiplier[:, None])
            t = reference_threshold[:, None] + ceiling  # T'(u) = ceil((c(u) - B) / M)
            inside = (t > self.lowest) & (t <= self.highest)
            held = inside & (self.code(t) >= u) & (self.code(t - 1) < u) & (m(t) >= u) & (m(t - 1) < u)
            wrong = ~held & varying[:, None]
            for c in np.flatnonzero(wrong.any(axis=1)):
                wrong_codes[c].append(u[c][wrong[c]])
        if not any(wrong_codes):
            return None
        picks = [np.concatenate(parts) if parts else high[c:c + 1] for c, parts in enumerate(wrong_codes)]
        return np.stack([bad[np.linspace(0, len(bad) - 1, _ADDED).astype(int)] for bad in picks]).astype(np.int64)

    def unframed(self, fit: MulShiftConstants) -> MulShiftConstants:
        """The constants on i = sign * j: M negated, and the exception ranges mirrored, where
        the codes fall."""
        exceptions = [[(a, b, k) if s > 0 else (-b, -a, k) for a, b, k in sorted(ranges, reverse=s < 0)]
                      for s, ranges in zip(self.sign.tolist(), fit.exceptions)]
        return MulShiftConstants([int(s) * m for s, m in zip(self.sign.tolist(), fit.multiplier)], fit.bias, fit.shift,
                                 fit.rounding, fit.low, fit.high, exceptions)


def _fit(targets: _Targets, samples: np.ndarray, found: np.ndarray, varying: np.ndarray):
    """(M, B, S) per channel with ceil((c(u) - B) / M) = T(u) - T(u_ref) on every sample,
    the smallest S then M; None where no M within the width limit fits."""
    dt = np.where(varying[:, None], found - found[:, :1], 0)
    largest = (1 << (MULTIPLIER_BITS - 1)) - 1
    room = _INT64_ROOM - 2 - int((samples.max() - samples.min())).bit_length()
    for shift in range(0, max(room, 1)):
        scaled = np.where(varying[:, None], targets(samples, shift), 0)

        def spread(m: np.ndarray) -> np.ndarray:  # the spread of d less M - 1: <= 0 where a B fits
            d = scaled - m[:, None] * dt
            return d.max(axis=1) - d.min(axis=1) - m + 1

        best = _convex_minimum(spread, len(dt), 1, largest)
        misses = spread(best) > 0
        if not misses.any():
            multiplier = _first_at_most_zero(spread, best)
            d = scaled - multiplier[:, None] * dt
            bias = ((d.max(axis=1) + d.min(axis=1) + multiplier - 1) // 2).tolist()
            return multiplier, bias, shift
        if (best[misses] == largest).any():
            return None  # a channel wants a larger multiplier: a larger shift only asks more
    return None


def _convex_minimum(f, channels: int, lowest: int, highest: int) -> np.ndarray:
    """Per channel, an integer m in [lowest, highest] minimising the convex f (a ternary search)."""
    low, high = np.full(channels, lowest, dtype=np.int64), np.full(channels, highest, dtype=np.int64)
    while (high - low > 2).any():
        third = (high - low) // 3
        m1, m2 = low + third, high - third
        f1, f2 = f(m1), f(m2)
        open_ = high - low > 2
        high = np.where(open_ & (f1 < f2), m2 - 1, np.where(open_ & (f1 == f2), m2, high))
        low = np.where(open_ & (f1 > f2), m1 + 1, np.where(open_ & (f1 == f2), m1, low))
    candidates = np.stack([np.minimum(low + k, high) for k in range(3)])
    values = np.stack([f(c) for c in candidates])
    return candidates[values.argmin(axis=0), np.arange(channels)]


def _first_at_most_zero(f, best: np.ndarray) -> np.ndarray:
    """Per channel, the smallest m in [1, best] with f(m) <= 0 (f falls to best, where it is <= 0)."""
    low, high = np.ones_like(best), best.copy()
    while (low < high).any():
        middle = (low + high) // 2
        fits = f(middle) <= 0
        high = np.where(fits, middle, high)
        low = np.where(fits, low, np.minimum(middle + 1, high))
    return low
