"""Which requantization a float-scaled quantizer gets: thresholds (MultiThreshold) or a
multiply-and-shift (MulShift), whichever costs less, and what each costs.

Both equal the float32 chain on every value of the accumulator (`fxhls.ir.requantize`,
`fxhls.ir.requantize_mul_shift`). The cost of one lane, in LUTs, a DSP slice counted as
LUTS_PER_DSP LUTs (the Ultra96-V2's 70,560 LUTs over its 360 DSP48E2: a DSP counted as
the LUTs it is as scarce as):
- thresholds: a comparison of the input with each of the 2^bits - 1 thresholds (constants
  of the input's width + 1 bits) and their count: THRESHOLD_LUTS_PER_BIT LUTs per
  threshold and input bit (fitted to yosys on `fxhls_multithreshold`);
- multiply-and-shift: the multiplier's DSP slices (tiles of the 27 x 18 DSP48E2), and
  MUL_SHIFT_LUTS_PER_BIT LUTs per bit of the sum for the add, the rounding and the clamp
  (fitted to yosys on `fxhls_mul_shift`); with exceptions, two comparisons of the input
  with constants per range (EXCEPTION_LUTS_PER_BIT LUTs per input bit each, fitted to
  yosys on the 16-bit Brevitas activation's `fxhls_mul_shift`: 4 lanes of 4 channels,
  51 ranges, 4,540 LUT) and the +-1 add of the output's bits.
Thresholds are kept while they cost no more; at most MAX_THRESHOLD_BITS output bits. A
multiply-and-shift with exceptions is sought only beyond that (where thresholds are not
an option): below it, exact thresholds always exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fxhls.fixed import FixedType
from fxhls.fixed.float32 import code_range

from .ops.mul_shift import exception_count, mul_shift_widths, node_widths
from .requantize import thresholds
from .requantize_mul_shift import MulShiftConstants, mul_shift

LUTS_PER_DSP = 196
MAX_THRESHOLD_BITS = 10
THRESHOLD_LUTS_PER_BIT = 0.3
EXCEPTION_LUTS_PER_BIT = 0.5
MUL_SHIFT_LUTS_PER_BIT = 0.8
_DSP_OPERANDS = (27, 18)


@dataclass(frozen=True)
class Cost:
    """One lane's estimated resources."""
    lut: int
    dsp: int

    @property
    def total(self) -> int:
        """LUTs, a DSP counted as LUTS_PER_DSP."""
        return self.lut + LUTS_PER_DSP * self.dsp

    def __str__(self) -> str:
        return f"about {self.lut:,} LUT and {self.dsp} DSP per lane"


def threshold_cost(levels: int, x_width: int) -> Cost:
    """Comparisons of an x_width-bit input with `levels` thresholds, and their count."""
    return Cost(math.ceil(levels * (x_width + 1) * THRESHOLD_LUTS_PER_BIT), 0)


def mul_shift_cost(x_width: int, multiplier_bits: int, sum_bits: int, exceptions: int = 0, out_bits: int = 0) -> Cost:
    """One x_width x multiplier_bits multiply, and the add, rounding and clamp of the sum;
    the comparisons of `exceptions` ranges per lane and the +-1 add of out_bits."""
    wide, narrow = max(x_width + 1, multiplier_bits), min(x_width + 1, multiplier_bits)
    dsp = math.ceil(wide / _DSP_OPERANDS[0]) * math.ceil(narrow / _DSP_OPERANDS[1])
    corrections = exceptions * 2 * (x_width + 1) * EXCEPTION_LUTS_PER_BIT + (out_bits if exceptions else 0)
    return Cost(math.ceil(sum_bits * MUL_SHIFT_LUTS_PER_BIT + corrections), dsp)


@dataclass(frozen=True)
class Requantization:
    """The chosen requantization: "MultiThreshold" with (thresholds, directions, base), or
    "MulShift" with its constants; its cost, and why the other was not taken."""
    op: str
    cost: Cost
    thresholds: tuple | None = None
    mul_shift: MulShiftConstants | None = None
    other: str = ""


def choose_requantization(chain: dict, quant: dict, source: FixedType, channels: int) -> Requantization:
    """The cheaper exact requantization of quant(chain(v)) for v of type `source`; a
    ValueError (a phrase) where neither exists."""
    base, top = code_range(quant["bits"], quant["signed"], quant["narrow"])
    levels, out_bits = top - base, max(top.bit_length(), (-base).bit_length()) + 1
    by_thresholds = threshold_cost(levels, source.width) if quant["bits"] <= MAX_THRESHOLD_BITS else None
    cheapest_mul_shift = mul_shift_cost(source.width, 2, source.width + 2)
    if by_thresholds is not None and by_thresholds.total <= cheapest_mul_shift.total:
        return Requantization("MultiThreshold", by_thresholds, thresholds(chain, quant, source, channels),
                              other=f"a multiply-and-shift would cost at least {cheapest_mul_shift}")
    found = mul_shift(chain, quant, source, channels, exceptions=by_thresholds is None)
    if isinstance(found, MulShiftConstants):
        sum_bits = mul_shift_widths(found.multiplier, found.bias, found.shift, source, out_bits)[1]
        by_mul_shift = mul_shift_cost(source.width, found.multiplier_bits, sum_bits, found.exception_count, out_bits)
        if by_thresholds is None or by_mul_shift.total < by_thresholds.total:
            other = (f"{levels:,} thresholds per channel would cost {by_thresholds}" if by_thresholds else
                     f"{levels:,} thresholds per channel: more than {MAX_THRESHOLD_BITS} bits")
            return Requantization("MulShift", by_mul_shift, mul_shift=found, other=other)
        return Requantization("MultiThreshold", by_thresholds, thresholds(chain, quant, source, channels),
                              other=f"the multiply-and-shift would cost {by_mul_shift}")
    if by_thresholds is None:
        raise ValueError(f"a requantization to {quant['bits']} bits takes {levels:,} thresholds per channel (at most "
                         f"{MAX_THRESHOLD_BITS} bits are supported), and no multiply-and-shift equals its float32 "
                         f"arithmetic: {found}")
    return Requantization("MultiThreshold", by_thresholds, thresholds(chain, quant, source, channels),
                          other=f"no multiply-and-shift equals it: {found}")


def node_cost(graph, node) -> Cost | None:
    """The estimated cost of one lane of a MultiThreshold or MulShift node (None for other ops)."""
    x_type = graph.tensor(node.inputs[0]).type
    if node.op == "MultiThreshold":
        return threshold_cost(graph.tensor(node.inputs[1]).shape[1], x_type.width)
    if node.op == "MulShift":
        out_type = graph.tensor(node.outputs[0]).type
        multiplier_bits, sum_bits = node_widths(node, x_type, out_type)
        return mul_shift_cost(x_type.width, multiplier_bits, sum_bits, exception_count(node), out_type.width)
    return None


def described(graph, node) -> str | None:
    """A line on a MultiThreshold or MulShift node: what it computes and its estimated cost."""
    cost = node_cost(graph, node)
    if cost is None:
        return None
    if node.op == "MultiThreshold":
        what = f"thresholds, {graph.tensor(node.inputs[1]).shape[1]:,} per channel"
    else:
        multiplier = max(abs(int(m)) for m in node.attrs["multiplier"]).bit_length() + 1
        ranges = [len(e) for e in node.attrs.get("exceptions") or []]
        exceptions = (f", exceptions: at most {max(ranges)} ranges per channel, {sum(ranges)} in all" if any(ranges)
                      else "")
        what = (f"multiply-and-shift, a {multiplier}-bit multiplier, shift {node.attrs['shift']}, "
                f"{node.attrs['shift_rounding']}{exceptions}")
    return f"{what}: {cost}"


__all__ = ["Cost", "Requantization", "choose_requantization", "described", "node_cost"]
