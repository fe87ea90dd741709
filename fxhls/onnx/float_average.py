"""An average of float-scaled codes over a window of N values, N not a power of two, then
qonnx's Trunc: Brevitas's TruncAvgPool2d (MobileNet's and ProxylessNAS's 7x7 pool).

qonnx computes the average in float32: the sum of the window's values fl32(s * q), in
onnxruntime's order, divided by N, each step rounded; not fixed point. The Trunc that
follows (input scale t, about s / N, zero point 0) first computes round(fl32(avg / t)),
which is the exact integer window sum S of the codes whenever every rounding on the way
moves the value by less than 1/2 in total. `window_sum` makes S exact integer work (a
depthwise Conv whose weights are all 1, a unit every backend has) and leaves a float
chain marked with the average's facts; `trunc_chain` proves the bound for the Trunc and
gives the chain fl32(S * t), from which the Trunc's rounding recovers S as qonnx's does.
Any other use of the average is refused in one line (`float_values.chain_of`).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from fxhls.fixed import FixedType
from fxhls.ir import Node

from .context import ImportContext, OnnxNode

UNIT_ROUNDOFF = Fraction(1, 2**24)  # float32, round to nearest


def window_sum(ctx: ImportContext, n: OnnxNode, scale: float, zero: float, kernel: list[int],
               strides: list[int]) -> None:
    """The exact window sum of the codes of input 0 of `n` (one scale `scale`, zero point
    `zero`), and a chain on it marked as this average."""
    x = n.inputs[0]
    if zero != 0.0:
        raise n.refuse(f"averages {math.prod(kernel)} values of codes with zero point {zero:g}; an average over a "
                       f"window that is not a power of two is supported on codes with zero point 0")
    channels = ctx.tensor(x).shape[0]
    ones = ctx.add_constant(f"{n.name}_ones", np.ones((channels, 1, *kernel)), FixedType(2, 2, True))
    total = ctx.fresh(f"{n.outputs[0]}_sum")
    ctx.add(Node("Conv", n.name, [ctx.operand(x, n), ones], [total],
                 {"strides": list(strides), "pads": [0] * len(kernel), "groups": channels}), n)
    codes = ctx.tensor(x).type
    ctx.chains[n.outputs[0]] = {"source": total, "chain": {"rescale": {"zero": [0.0], "scales": [], "node": n.name},
                                                          "steps": []},
                                "average": {"node": n.name, "count": math.prod(kernel), "scale": float(scale),
                                            "largest": max(-codes.min_code, codes.max_code)}}


def trunc_chain(n: OnnxNode, chain: dict, input_scale: float, input_zero: float) -> dict:
    """The chain fl32(S * t) on the window sum S for the Trunc `n` (input scale t), after
    proving that qonnx's round(fl32(avg / t)) is S on every window; refused in one line
    where the bound does not hold."""
    average = chain["average"]
    count, scale, largest = average["count"], Fraction(average["scale"]), average["largest"]
    t = Fraction(float(input_scale))
    ratio = scale / (count * t)  # the exact avg / t is S * ratio
    # In units of t, with W = sum |q| <= N * largest and u = 2^-24: each value fl32(s * q)
    # moves by u of it, their float32 sum in any order by gamma_N of the sum of |values|, and
    # the division by N (at most two roundings) and by t (one) by (1 + u)^3 - 1 of the result:
    # ratio * W * (u (1 + u)^3 + gamma (1 + u)^4 + 3u + 3u^2 + u^3) < ratio * W * (5u + gamma (1 + 5u)).
    # Then S * ratio is off S by |S| |ratio - 1| <= W |ratio - 1|.
    u = UNIT_ROUNDOFF
    gamma = count * u / (1 - count * u)
    worst_sum = count * largest
    error = ratio * worst_sum * (5 * u + gamma * (1 + 5 * u)) + worst_sum * abs(ratio - 1)
    if input_zero != 0.0 or error >= Fraction(1, 4):
        raise n.refuse(f"truncates the average of {count} values of scale {float(scale):.6g} ({average['node']!r}) "
                       f"with input scale {float(t):.6g} and zero point {input_zero:g}: qonnx's float32 average "
                       f"divided by it may round to another integer than the window's sum (error up to "
                       f"{float(error):.3g}); supported where that error is below 1/4 and the zero point is 0")
    return {"source": chain["source"], "chain": {"rescale": {"zero": [0.0], "scales": [[float(input_scale)]],
                                                             "node": average["node"]}, "steps": []}}
