"""MulShift: the requantization of an exact value to the codes of a float-scaled quantizer
by one multiply, an add and a shift per channel.

Input x: an exact value (an accumulator, or codes) on the grid of step 2^-F, F the
attribute `frac_bits` (the grid the constants were derived on), so that its code is
x * 2^F. Attributes: the output codes' type (`type_attrs`: an integer type);
`multiplier`, `bias`, `low`, `high` (one integer per channel: the first dimension of a
sample); `shift` and `shift_rounding` (an `ap_fixed` rounding mode). Channel c outputs
clamp(round((code * multiplier[c] + bias[c]) / 2^shift), low[c], high[c])
(`fxhls.fixed.mul_shift`), plus, with the optional attribute `exceptions` (per channel
a list of [first, last, correction] ranges of the input's code, correction +1 or -1),
the correction of the range the code lies in. `fxhls.ir.requantize_mul_shift` derives
the constants from a float chain and proves them equal to it on every value x can take.
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed.codes import to_codes
from fxhls.fixed.mul_shift import exception_corrections, mul_shift_codes

from .quantize import node_type

_PER_CHANNEL = ("multiplier", "bias", "low", "high")


class MulShift:
    @staticmethod
    def infer(node, inputs):
        channels = inputs[0].shape[0]
        if any(len(node.attrs[key]) != channels for key in _PER_CHANNEL):
            raise ValueError(f"node {node.name!r}: MulShift needs {channels} values of each of "
                             f"{', '.join(_PER_CHANNEL)}")
        if len(node.attrs.get("exceptions") or [[]] * channels) != channels:
            raise ValueError(f"node {node.name!r}: MulShift needs {channels} lists of exceptions")
        return [(inputs[0].shape, node_type(node.attrs))]

    @staticmethod
    def execute(node, values):
        x = values[0]
        view = (1, -1, *[1] * (x.ndim - 2))
        constants = [np.array(node.attrs[key], dtype=object).reshape(view) for key in _PER_CHANNEL]
        x_codes = to_codes(x, node.attrs["frac_bits"])
        codes = mul_shift_codes(x_codes, constants[0], constants[1], node.attrs["shift"],
                                constants[2], constants[3], node.attrs["shift_rounding"])
        if exception_count(node):
            ranges = [np.array(column, dtype=np.int64).reshape(1, x.shape[1], *view[2:], -1)
                      for column in exception_columns(node)]
            codes = codes + exception_corrections(x_codes, *ranges)
        return [codes.astype(np.float64)]


def exception_count(node) -> int:
    """The most exception ranges of a channel of MulShift `node`."""
    return max((len(e) for e in node.attrs.get("exceptions") or []), default=0)


def exception_columns(node) -> tuple[list, list, list]:
    """(first, last, correction), each a list per channel of exception_count(node)
    values, a channel's list padded with empty ranges (first 1, last 0, correction 0)."""
    count = exception_count(node)
    padded = [list(e) + [(1, 0, 0)] * (count - len(e)) for e in node.attrs.get("exceptions") or []]
    return tuple([[int(r[k]) for r in ranges] for ranges in padded] for k in range(3))


def mul_shift_widths(multiplier, bias, shift: int, x_type, out_width: int) -> tuple[int, int]:
    """(the multipliers' signed width, a signed width that holds code * multiplier + bias
    and the output codes shifted left by `shift`): what the backends build."""
    multiplier_bits = max(abs(int(m)).bit_length() for m in multiplier) + 1
    bias_bits = max(abs(int(b)).bit_length() for b in bias) + 1
    product_bits = x_type.width + multiplier_bits + int(not x_type.signed)
    return multiplier_bits, max(product_bits, bias_bits, out_width + shift) + 1


def node_widths(node, x_type, out_type) -> tuple[int, int]:
    """`mul_shift_widths` of MulShift `node`."""
    return mul_shift_widths(node.attrs["multiplier"], node.attrs["bias"], node.attrs["shift"], x_type, out_type.width)


OPS = {"MulShift": MulShift}
