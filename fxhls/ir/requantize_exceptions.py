"""A multiply-and-shift with exceptions, derived from a float chain and proven equal to it.

Where float32 rounding moves a few of the chain's thresholds off every exact linear map
(`fxhls.ir.requantize_mul_shift` finds no M, B, S), the code is
e(j) = m(j) + corr(j): m(j) = clamp(floor((j*M + B) / 2^S), low, high) (AP_TRN) in the
rising frame j, and corr(j) = +1 or -1 on a few ranges of j (the exceptions), 0 elsewhere.

The derivation, per channel: the true thresholds T(u) of every code u in (low, high] (the
smallest j whose chain code is at least u, by binary search); their slope (least
squares) gives the codes per step of j, and with it, per multiplier width (18 bits, one
DSP48E2 port; 27 bits, its wide port), the shift S that puts the multiplier just within
the width, shared by the channels. Per channel, for each M within NEIGHBOURS of the
slope times 2^S (the exact ratio's best approximations), the B that makes the most
T'(u) = ceil((u*2^S - B) / M) equal T(u): T'(u) = T(u) exactly where
d(u) = u*2^S - M*T(u) <= B < d(u) + M, so B is the d covering the most d's within M
below it. Each code u with T'(u) != T(u) is an exception: on [T'(u), T(u) - 1], m already
gives u and the chain u - 1 (correction -1); on [T(u), T'(u) - 1] the reverse (+1).
Adjacent ranges of one correction merge; a candidate whose ranges overlap is not taken.
The fewest exception ranges win (then the narrower multiplier), at most MAX_EXCEPTIONS a
channel.

The proof, per channel: the chain's codes q reach each u exactly at T(u)
(q(T(u)) >= u > q(T(u) - 1)), m's at T'(u) where T'(u) is inside the range
(m(T'(u)) >= u > m(T'(u) - 1)); both are monotone, so both are constant between those
points, and corr between its ranges' ends. So e and q are constant on every interval
between consecutive points of {T(u)} | {T'(u)} | {first, last + 1 of each range} | the
range's lowest value, and e(p) == q(p) at each such p proves them equal on
every value of the accumulator's range. All in integers, q being the float32 chain itself.
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import FixedType
from fxhls.fixed.mul_shift import exception_corrections, mul_shift_codes

MAX_EXCEPTIONS = 64  # exception ranges per channel: two comparators each
MULTIPLIER_WIDTHS = (18, 27)  # signed: the DSP48E2's B and A ports
NEIGHBOURS = 3  # multipliers either side of the slope's that a channel tries
MAX_LISTED_THRESHOLDS = 1 << 24  # thresholds (all channels) listed at once


def with_exceptions(frame, low: np.ndarray, high: np.ndarray, source: FixedType):
    """(multiplier, bias, shift, exceptions) on the frame's j, exceptions per channel a
    list of (first, last, correction) on j, proven equal to the chain; or why there are
    none (a phrase). `frame`: `requantize_mul_shift._Frame`; low, high: int64 per channel."""
    span = int((high - low).max())
    if span * len(low) > MAX_LISTED_THRESHOLDS:
        return f"its {span * len(low):,} thresholds are too many to list for exceptions"
    if source.width + max(MULTIPLIER_WIDTHS) + 2 > 61:
        return f"its input ({source}) is too wide for exceptions found in 64-bit integers"
    u = low[:, None] + 1 + np.arange(span)[None, :]
    valid = u <= high[:, None]
    found = frame.thresholds(np.minimum(u, high[:, None]))
    slopes = [_slope(u[c][valid[c]], found[c][valid[c]]) for c in range(len(low))]
    best, why = None, "it is constant"
    for width in MULTIPLIER_WIDTHS:
        largest = (1 << (width - 1)) - 1 - NEIGHBOURS
        shift = min(int(np.floor(np.log2(largest / s))) for s in slopes if s > 0) if any(s > 0 for s in slopes) else 0
        if shift < 0:
            why = f"one step of its input moves its code by more than a {width}-bit multiplier"
            continue
        if shift + int(max(np.abs(low).max(), np.abs(high).max()) + 1).bit_length() + 2 > 61:
            why = f"its codes shifted by {shift} bits are too wide for 64-bit integers"
            continue
        fits = [_channel_fit(u[c][valid[c]], found[c][valid[c]], slopes[c], shift, frame, c)
                for c in range(len(low))]
        if any(f is None for f in fits):
            why = f"every {width}-bit multiplier near its scale leaves overlapping exceptions"
            continue
        count = max(len(f[2]) for f in fits)
        if best is None or count < best[0]:
            best = (count, shift, fits)
    if best is None:
        return why
    count, shift, fits = best
    if count > MAX_EXCEPTIONS:
        return f"the best multiply-and-shift leaves {count} exception ranges in a channel (at most {MAX_EXCEPTIONS})"
    multiplier, bias, exceptions = ([f[k] for f in fits] for k in range(3))
    failing = _disproof(frame, u, valid, found, multiplier, bias, shift, exceptions, low, high)
    if failing is not None:
        return failing
    return multiplier, bias, shift, exceptions


def _slope(u: np.ndarray, found: np.ndarray) -> float:
    """Codes per step of j: the least-squares slope of u over T(u); 1 for a single code."""
    if len(u) < 2 or found.max() == found.min():
        return float(len(u) >= 1)
    return float(np.polyfit(found.astype(np.float64), u.astype(np.float64), 1)[0])


def _channel_fit(u: np.ndarray, found: np.ndarray, slope: float, shift: int, frame, channel: int):
    """(M, B, exception ranges) of one channel with the fewest ranges among the multipliers
    near slope * 2^shift, or None where each leaves overlapping ranges."""
    if len(u) == 0:
        return 0, 0, []
    target = u << shift
    centre = max(1, int(round(slope * (1 << shift))))
    best = None
    for multiplier in range(max(1, centre - NEIGHBOURS), centre + NEIGHBOURS + 1):
        d = np.sort(target - multiplier * found)
        covered = np.searchsorted(d, d, "right") - np.searchsorted(d, d - multiplier, "right")
        bias = int(d[covered.argmax()])
        reached = -((bias - target) // multiplier)  # T'(u) = ceil((u*2^S - B) / M)
        ranges = _ranges(u, found, reached, frame.lowest[channel, 0], frame.highest[channel, 0])
        if ranges is not None and (best is None or len(ranges) < len(best[2])):
            best = (multiplier, bias, ranges)
    return best


def _ranges(u, found, reached, lowest: int, highest: int) -> list[tuple[int, int, int]] | None:
    """The exception ranges (first, last, correction) where m's thresholds `reached` differ
    from the chain's `found`, within [lowest, highest]; adjacent ones of one correction
    merged; None where two overlap."""
    wrong = reached != found
    first = np.minimum(reached, found)[wrong]
    last = np.maximum(reached, found)[wrong] - 1
    correction = np.where(reached < found, -1, 1)[wrong]
    first, last = np.maximum(first, lowest), np.minimum(last, highest)
    keep = first <= last
    order = np.argsort(first[keep], kind="stable")
    merged: list[list[int]] = []
    for a, b, k in zip(first[keep][order].tolist(), last[keep][order].tolist(), correction[keep][order].tolist()):
        if merged and a <= merged[-1][1]:
            return None
        if merged and a == merged[-1][1] + 1 and k == merged[-1][2]:
            merged[-1][1] = b
        else:
            merged.append([a, b, k])
    return [tuple(r) for r in merged]


def _disproof(frame, u, valid, found, multiplier, bias, shift, exceptions, low, high) -> str | None:
    """Where the proof (module docstring) fails, a phrase; None where it holds."""
    constants = [np.array(v, dtype=object)[:, None] for v in (multiplier, bias, low.tolist(), high.tolist())]
    width = max(1, max(len(e) for e in exceptions))
    first, last, correction = (np.array([[r[k] for r in e] + [0] * (width - len(e)) for e in exceptions],
                                        dtype=np.int64)[:, None, :] for k in range(3))

    def m(j):
        return mul_shift_codes(j, *constants[:2], shift, *constants[2:], "AP_TRN").astype(np.int64)

    def e(j):
        return m(j) + exception_corrections(j, first, last, correction)

    lowest, highest = frame.lowest, frame.highest
    reached = -((np.array(bias, dtype=np.int64)[:, None] - (u << shift))
                // np.maximum(np.array(multiplier, dtype=np.int64), 1)[:, None])
    uu = np.minimum(u, high[:, None])
    inside = valid & (reached > lowest) & (reached <= highest)
    at = np.clip(reached, lowest + 1, highest)
    chain_ok = (frame.code(found) >= uu) & (frame.code(found - 1) < uu) & (found > lowest)
    mul_ok = ~inside | ((m(at) >= uu) & (m(at - 1) < uu))
    if not (chain_ok | ~valid).all() or not mul_ok.all():
        return "its thresholds could not be checked"  # the chain is not monotone, or m not as derived
    ends = np.concatenate([first, last + 1], axis=2)[:, 0, :]
    moved = np.where(inside & (reached != found), at, found)  # T'(u) where it differs from T(u)
    points = np.concatenate([np.clip(np.concatenate([found, moved, ends], axis=1), lowest, highest), lowest], axis=1)
    if (e(points) != frame.code(points)).any():
        return "its exceptions do not make it equal the float32 chain"
    return None
