"""Requantization thresholds: the codes a float chain and a quantizer give each exact input value.

A float-scaled layer computes codes = quant(chain(v)) for an exact value v (an
accumulator on a grid of step 2^-F within its type's range). Every step of a chain and
the quantizer are monotone per channel, so per channel the codes are a monotone
function of v, and code >= base + k exactly where v reaches the k-th threshold: the
smallest v of the grid whose code is at least base + k (or, where the codes fall as v
grows, the largest). A binary search over the grid finds each one, evaluating the
chain itself, so the thresholds equal the float32 reference on every value v can take.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from fxhls.fixed import FixedType

from fxhls.fixed.float32 import code_range, quant_codes, run_chain

Codes = Callable[[np.ndarray], np.ndarray]


def chain_codes(chain: dict, quant: dict, source: FixedType) -> Codes:
    """codes(index): the quantizer's codes (float64) of the chain on the values index * 2^-F
    of `source`'s grid, `index` of shape (channels, K)."""

    def codes(index: np.ndarray) -> np.ndarray:
        return quant_codes(run_chain(index * source.lsb, chain, channel_axis=0), quant,
                           channel_axis=0).astype(np.float64)

    return codes


def range_ends(codes: Codes, source: FixedType, channels: int) -> np.ndarray:
    """The codes at the lowest and the highest index of `source`, shape (channels, 2)."""
    return codes(np.array([[source.min_code, source.max_code]] * channels, dtype=np.float64))


def first_reaching(codes: Codes, targets: np.ndarray, rising: np.ndarray, source: FixedType) -> np.ndarray:
    """Per channel c and target code t = targets[c, k]: the smallest grid index whose code
    is at least t where the channel rises (its highest index + 1 where none is), the
    largest such index where it falls (its lowest index - 1 where none is)."""
    lowest, highest = source.min_code, source.max_code
    targets = np.asarray(targets, dtype=np.float64)
    low = np.full(targets.shape, float(lowest))
    high = np.full(targets.shape, float(highest + 1))
    # the first grid index whose code is at least (rising) or below (falling) the target
    while (low < high).any():
        middle = np.floor((low + high) / 2)
        reached = codes(np.minimum(middle, highest)) >= targets
        passed = np.where(rising[:, None], reached, ~reached) & (middle <= highest)
        high = np.where(passed & (low < high), middle, high)
        low = np.where(~passed & (low < high), middle + 1, low)
    return np.where(rising[:, None], low, low - 1)


def thresholds(chain: dict, quant: dict, source: FixedType, channels: int) -> tuple[np.ndarray, list[int], int]:
    """(thresholds of shape (channels, levels), direction per channel, base code) of
    quant(chain(v)) for every v of type `source`."""
    codes = chain_codes(chain, quant, source)
    base, top = code_range(quant["bits"], quant["signed"], quant["narrow"])
    targets = np.arange(base + 1, top + 1, dtype=np.float64)[None, :].repeat(channels, axis=0)
    ends = range_ends(codes, source, channels)
    rising = ends[:, 0] <= ends[:, 1]
    found = first_reaching(codes, targets, rising, source)
    return found * source.lsb, [1 if r else -1 for r in rising], base
