"""Float32 arithmetic as ONNX (and so qonnx's executor) computes it, and how a float32
value becomes a code of a float-scaled quantizer: the host edges of a float-scaled model,
and the values its requantization thresholds are derived from.

A *float chain* is what a float-scaled model computes between an exact value v (an
accumulator, or codes) and the next quantizer: a `rescale`, then element-wise `steps`.

- rescale {"zero": z, "scales": [s1, s2], "bias": b}: fl32((v - z) * s1 * s2 + b), one
  rounding of the exact value (the dequantized MatMul/Conv with its bias, or a Quant's
  output (q - z) * s); at most two float32 scales, so their product is exact in float64.
- steps, each {"op": ..., "constant": c}, every one rounded to float32 as ONNX rounds it:
  "mul" x * c, "add" x + c, "div" x / c, "sub_from" c - x, "relu" max(x, 0); and
  {"op": "function", "function": name, "params": {...}}, an activation of
  `fxhls.fixed.functions` (Sigmoid, Tanh, ...): the float32 nearest to the float64
  function of x (the correctly rounded float32 function wherever float64's own error,
  under an ulp of float64, does not straddle a float32 rounding boundary). Every step
  is monotone in x for a fixed c (a function step: for monotone parameters, which the
  importer checks), so a chain is monotone per channel.
- quant {"scale", "zero", "bits", "signed", "narrow", "rounding"}: qonnx's Quant codes,
  clamp(round(fl32(x / scale) + zero)) in float32 (every rounding mode qonnx has); a
  signed 1-bit Quant is bipolar: +1 where fl32(x / scale) + zero >= 0, else -1; rounding
  "SIGN" is BipolarQuant's: +1 where x >= 0, else -1. With "input_scale" and "input_zero"
  it is qonnx's Trunc (opset 2): y = round(x / input_scale + input_zero) (ties to even),
  divided by t = 2^round(log2(scale / input_scale)), then clamped and rounded as a Quant;
  its value is (y - zero) * scale, zero being input_zero / t.

- dense {"weights", "bias", "transposed", "node"}, between the rescale and the steps of a
  host tail (or a host head's first layer): the float32 MatMul (or Gemm) of the rescaled
  values (a batch of vectors) with float32
  `weights` (inputs x outputs; "transposed" where the ONNX node holds them outputs x
  inputs) and float32 `bias` (one per output, or None), summed as
  onnxruntime's CPU kernel sums (`onnxruntime_matmul`): the host's last layer where its
  float32 sum depends on the order of the additions (`dense_is_exact` says where it does not).
- conv {"weights", "bias", "pads", "strides", "node"}: the float32 2-D Conv of a batch of
  images with float32 `weights` (M, C, kh, kw), `bias` (M, or None), ONNX `pads`
  [top, left, bottom, right] and `strides`, summed as onnxruntime's CPU kernel sums
  (`onnxruntime_conv`).
- input_steps: element-wise steps before a dense or a conv (on the float input of a host head).

A host head's chain is the model's first layer on its float input where no quantizer
comes before it: {"input_steps", "dense" or "conv", "steps"}, no rescale.
Steps, rescales, denses, convs and quants may name the ONNX node that computes them ("node"), for reports.
Constants are lists of float32 values, one per channel (the first axis of a sample) or
one for all; `channel_axis` says where channels are in the arrays a chain runs on.

`host_head` and `host_tail` are the host's float work of a float-scaled model (the IR's
HostQuantize and HostFloat, design.json's "host"). This module needs numpy and
functions.py only: the deploy package runs both on the board as they are.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

try:
    from .functions import evaluate
except ImportError:  # on the board, where functions.py sits beside this file
    from functions import evaluate

_FLOAT32_LOWEST_BIT = -149  # the exponent of the smallest float32 (a subnormal)

_ROUNDING = {
    "ROUND": np.round, "HALF_EVEN": np.round, "CEIL": np.ceil, "FLOOR": np.floor, "DOWN": np.fix,
    "ROUND_TO_ZERO": np.fix,
    "UP": lambda x: np.sign(x) * np.ceil(np.abs(x)),
    "HALF_UP": lambda x: np.sign(x) * np.floor(np.abs(x) + np.float32(0.5)),
    "HALF_DOWN": lambda x: np.sign(x) * np.ceil(np.abs(x) - np.float32(0.5)),
}
ROUNDING_MODES = tuple(_ROUNDING)


def per_channel(constant, ndim: int, channel_axis: int) -> np.ndarray:
    """`constant` (one value, or one per channel) as float32, shaped to broadcast over an
    array of `ndim` dimensions whose channels lie on `channel_axis`; an array of `ndim`
    dimensions already broadcasts, and stays as it is."""
    if np.ndim(constant) == ndim:
        return np.asarray(constant, dtype=np.float32)
    values = np.asarray(constant, dtype=np.float32).reshape(-1)
    shape = [1] * ndim
    shape[channel_axis] = values.size
    return values.reshape(shape)


def code_range(bits: int, signed: bool, narrow: bool) -> tuple[int, int]:
    """The smallest and largest code of a Quant, as qonnx defines them (-1 and +1 bipolar)."""
    if bits == 1 and signed:
        return -1, 1
    if signed:
        return -(1 << (bits - 1)) + int(narrow), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1 - int(narrow)


def quant_codes(x: np.ndarray, quant: dict, channel_axis: int) -> np.ndarray:
    """qonnx's Quant codes of the float32 values `x`, as float32 integers."""
    x = np.asarray(x, dtype=np.float32)
    low, high = code_range(quant["bits"], quant["signed"], quant["narrow"])
    if "input_scale" in quant:
        input_scale = per_channel(quant["input_scale"], x.ndim, channel_axis)
        shift = np.float32(2) ** np.round(np.log2(per_channel(quant["scale"], x.ndim, channel_axis) / input_scale))
        scaled = np.round(x / input_scale + per_channel(quant["input_zero"], x.ndim, channel_axis)) / shift
    else:
        scaled = x / per_channel(quant["scale"], x.ndim, channel_axis) + per_channel(quant["zero"], x.ndim,
                                                                                      channel_axis)
    if quant["bits"] == 1 and quant["signed"]:
        return np.where((x if quant["rounding"] == "SIGN" else scaled) >= 0, np.float32(1), np.float32(-1))
    clamped = np.minimum(np.maximum(scaled, np.float32(low)), np.float32(high))
    return _ROUNDING[quant["rounding"]](clamped).astype(np.float32)


def run_steps(x: np.ndarray, steps: list[dict], channel_axis: int) -> np.ndarray:
    """The element-wise `steps` on float32 values `x`, each rounded to float32."""
    x = np.asarray(x, dtype=np.float32)
    for step in steps:
        if step["op"] == "relu":
            x = np.maximum(x, np.float32(0))
            continue
        if step["op"] == "function":
            with np.errstate(over="ignore"):
                x = evaluate(step["function"], x, step["params"]).astype(np.float32)
            continue
        c = per_channel(step["constant"], x.ndim, channel_axis)
        x = {"mul": np.multiply, "add": np.add, "div": np.divide}[step["op"]](x, c) if step["op"] != "sub_from" \
            else np.subtract(c, x)
    return x.astype(np.float32)


def rescale(v: np.ndarray, rescale_: dict, channel_axis: int) -> np.ndarray:
    """fl32((v - zero) * s1 * s2 + bias) for exact values `v` (float64), rounded once.

    Computed in float64 with an error bound; where the bound does not settle which
    float32 is nearest (close to a midpoint between two float32s), exactly with
    fractions. Ties go to the float32 with an even significand, as IEEE rounds."""
    v = np.asarray(v, dtype=np.float64)
    ndim = v.ndim
    scales = [per_channel(s, ndim, channel_axis).astype(np.float64) for s in rescale_["scales"]]
    if len(scales) > 2:
        raise ValueError(f"a rescale multiplies by at most two scales, got {len(scales)}")
    product = np.prod(np.broadcast_arrays(*scales, np.ones(1)), axis=0) if scales else np.ones(1)
    zero = per_channel(rescale_["zero"], ndim, channel_axis).astype(np.float64)
    bias = per_channel(rescale_.get("bias") or [0.0], ndim, channel_axis).astype(np.float64)
    scaled = (v - zero) * product
    approx = scaled + bias
    rounded = approx.astype(np.float32)
    error = (np.abs(scaled) + np.abs(approx)) * 2.0**-52
    below = (rounded.astype(np.float64) + np.nextafter(rounded, np.float32(-np.inf)).astype(np.float64)) / 2
    above = (rounded.astype(np.float64) + np.nextafter(rounded, np.float32(np.inf)).astype(np.float64)) / 2
    unsettled = np.argwhere((approx - error <= below) | (approx + error >= above))
    if unsettled.size:
        full = [np.broadcast_to(a, approx.shape) for a in (v, zero, bias, *scales)]
        for index in map(tuple, unsettled):
            exact = Fraction(full[0][index]) - Fraction(full[1][index])
            for s in full[3:]:
                exact *= Fraction(s[index])
            rounded[index] = _nearest_float32(exact + Fraction(full[2][index]))
    return rounded


def _nearest_float32(value: Fraction) -> np.float32:
    """The float32 nearest to `value`, ties to the even significand."""
    candidate = np.float32(float(value))
    while True:
        down = np.nextafter(candidate, np.float32(-np.inf))
        up = np.nextafter(candidate, np.float32(np.inf))
        if value < (Fraction(float(candidate)) + Fraction(float(down))) / 2:
            candidate = down
        elif value > (Fraction(float(candidate)) + Fraction(float(up))) / 2:
            candidate = up
        else:
            break
    for neighbour in (np.nextafter(candidate, np.float32(-np.inf)), np.nextafter(candidate, np.float32(np.inf))):
        midpoint = (Fraction(float(candidate)) + Fraction(float(neighbour))) / 2
        if value == midpoint and int(np.array(candidate).view(np.uint32)) & 1:
            return neighbour
    return candidate


def run_chain(v: np.ndarray, chain: dict, channel_axis: int) -> np.ndarray:
    """The float32 values of a chain {"rescale", "input_steps", "dense" or "conv", "steps"}
    on exact values `v`; a chain without a rescale starts from float32 inputs (a graph
    input). A chain with a dense or a conv runs on a batch (first axis) of vectors or
    images (channels on axis 1)."""
    x = rescale(v, chain["rescale"], channel_axis) if chain.get("rescale") else np.asarray(v, dtype=np.float32)
    if chain.get("dense"):
        dense = chain["dense"]
        x = run_steps(x.reshape(len(x), -1), chain.get("input_steps", []), channel_axis)
        x = onnxruntime_matmul(x, np.asarray(dense["weights"], dtype=np.float32), _float32_or_none(dense["bias"]),
                               dense["transposed"])
    elif chain.get("conv"):
        conv = chain["conv"]
        x = onnxruntime_conv(run_steps(x, chain.get("input_steps", []), channel_axis), conv["weights"],
                             _float32_or_none(conv["bias"]), conv["pads"], conv["strides"])
    return run_steps(x, chain.get("steps", []), channel_axis)


def chain_shape(chain: dict, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The sample shape of a chain's values on values of sample `shape`: a dense's outputs,
    a conv's output image, else `shape`."""
    if chain.get("dense"):
        dense = chain["dense"]
        return (len(dense["bias"] or dense["weights"][0]),)
    if chain.get("conv"):
        conv = chain["conv"]
        weights, pads = np.shape(conv["weights"]), conv["pads"]
        return (weights[0], *(_output_size(shape[1 + axis], weights[2 + axis], pads[axis] + pads[axis + 2],
                                           conv["strides"][axis]) for axis in (0, 1)))
    return tuple(shape)


def _float32_or_none(values) -> np.ndarray | None:
    return None if values is None else np.asarray(values, dtype=np.float32)


def fma32(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """fl32(a * b + c) for float32 arrays (broadcast), rounded once (a fused multiply-add).

    a * b is exact in float64 (2 x 24 significant bits); the sum with c is rounded to
    float64 and made round-to-odd (an inexact sum gets an odd last bit, toward the exact
    value), which, with 29 more bits than float32, rounds to the same float32 as the exact
    value: an exact sum (a tie included) converts as it is, an inexact one can be no tie."""
    product = np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)
    addend = np.asarray(c, dtype=np.float64)
    total = product + addend
    virtual = total - product
    error = (product - (total - virtual)) + (addend - virtual)  # TwoSum: total + error is exact
    even = (total.view(np.int64) & 1) == 0
    toward = np.nextafter(total, np.where(error > 0, np.inf, -np.inf))
    return np.where((error != 0) & even, toward, total).astype(np.float32)


def onnxruntime_k_block(outputs: int) -> int:
    """How many products onnxruntime's CPU SGEMM (MLAS, without packed weights: how
    qonnx's executor runs a MatMul or Gemm, its weight an input) sums in one block, for a
    product with `outputs` columns: 128, doubled for each halving of its column panel
    (128 wide) that `outputs` still fills, down to 16 columns: 1024 for up to 16 outputs,
    512 for 17-32, 256 for 33-64, 128 from 65 on (measured on onnxruntime 1.32, x86-64)."""
    panel, block = 128, 128
    while panel > 16 and panel // 2 >= outputs:
        panel, block = panel // 2, block * 2
    return block


def onnxruntime_matmul(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None,
                       transposed: bool = False) -> np.ndarray:
    """x (batch, K) @ weights (K, N) + bias in float32, in the order of onnxruntime's CPU
    SGEMM (MLAS on x86-64 with AVX and FMA; measured on onnxruntime 1.32), the weights
    given to it as an input (as qonnx's executor runs a node), `transposed` where the
    ONNX node holds them (N, K) (a Gemm with transB=1). Without a bias the sums start
    from 0, else from the bias.
    - A batch of one: one sum per output over all of K, products and sums each rounded
      (no fused multiply-add): `_one_row_transposed`, or `_one_row`.
    - One output (of weights (K, 1)): each sample's sum as `_one_row_transposed` sums.
    - Else K is cut into blocks (`onnxruntime_k_block`); each block's sum is a chain of
      fused multiply-adds from 0 in k order, and the result adds each block's sum."""
    x, weights = np.asarray(x, dtype=np.float32), np.asarray(weights, dtype=np.float32)
    rows, (depth, outputs) = len(x), weights.shape
    start = np.zeros((rows, outputs), np.float32) if bias is None else \
        np.broadcast_to(np.asarray(bias, dtype=np.float32), (rows, outputs)).astype(np.float32)
    if rows == 1 and transposed:
        return _one_row_transposed(x[0], weights.T, start[0])[None, :]
    if rows == 1:
        return _one_row(x[0], weights, start[0])[None, :]
    if outputs == 1 and not transposed:
        return _one_row_transposed(weights[:, 0], x, start[:, 0])[:, None]
    block = onnxruntime_k_block(outputs)
    result = start
    for begin in range(0, depth, block):
        partial = np.zeros((rows, outputs), np.float32)
        for k in range(begin, min(depth, begin + block)):
            partial = fma32(x[:, k:k + 1], weights[k:k + 1, :], partial)
        result = result + partial
    return result


def onnxruntime_conv(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, pads: list[int],
                     strides: list[int]) -> np.ndarray:
    """The 2-D Conv of the batch x (batch, C, H, W) with weights (M, C, kh, kw), `pads`
    [top, left, bottom, right], `strides` [sh, sw] and float32 `bias` (M, or None) in float32,
    in the order of onnxruntime's CPU Conv (MLAS's im2col and SGEMM; measured on
    onnxruntime 1.32, x86-64): the patches of each image are a matrix (K = C * kh * kw in
    (c, ky, kx) order, N = OH * OW); K is cut into blocks (`onnxruntime_k_block` of N), and
    each block's product of the filters (M, K) with it is summed as `onnxruntime_matmul`
    sums, from the result so far (from 0 at first); then the bias is added."""
    x, weights = np.asarray(x, dtype=np.float32), np.asarray(weights, dtype=np.float32)
    patches = _patches(x, weights.shape[2:], pads, strides)
    filters = weights.reshape(len(weights), -1)
    (depth, size), block = patches.shape[1:], onnxruntime_k_block(patches.shape[2])
    result = np.zeros((len(x), len(filters), size), np.float32)
    for image in range(len(x)):
        for begin in range(0, depth, block):
            result[image] = onnxruntime_matmul(filters[:, begin:begin + block], patches[image, begin:begin + block],
                                               result[image])
    if bias is not None:
        result = result + np.asarray(bias, dtype=np.float32)[:, None]
    return result.reshape(len(x), *chain_shape({"conv": {"weights": weights, "pads": pads, "strides": strides}},
                                                x.shape[1:]))


def _output_size(size: int, kernel: int, padding: int, stride: int) -> int:
    return (size + padding - kernel) // stride + 1


def _patches(x: np.ndarray, kernel: tuple[int, int], pads: list[int], strides: list[int]) -> np.ndarray:
    """im2col: the batch x (batch, C, H, W) zero-padded, as (batch, C * kh * kw, OH * OW)."""
    (kh, kw), (top, left, bottom, right) = kernel, pads
    padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    rows = np.arange(_output_size(x.shape[2], kh, top + bottom, strides[0]))[None, :] * strides[0] + \
        np.arange(kh)[:, None]
    columns = np.arange(_output_size(x.shape[3], kw, left + right, strides[1]))[None, :] * strides[1] + \
        np.arange(kw)[:, None]
    patches = padded[:, :, rows[:, None, :, None], columns[None, :, None, :]]  # (batch, C, kh, kw, OH, OW)
    return patches.reshape(len(x), x.shape[1] * kh * kw, -1)


def _one_row(x: np.ndarray, weights: np.ndarray, start: np.ndarray) -> np.ndarray:
    """MLAS's kernel for one row of x times weights (K, N): k in groups of 4 (then one of
    2, then 1), each group's products summed in k order, the group's sum added to the result."""
    result, k, depth = start.copy(), 0, len(x)
    for size in (4, 2, 1):
        while depth - k >= size and (size == 4 or (depth - k) & size):
            group = x[k] * weights[k]
            for j in range(k + 1, k + size):
                group = group + x[j] * weights[j]
            result, k = group + result, k + size
    return result


def _one_row_transposed(x: np.ndarray, rows: np.ndarray, start: np.ndarray) -> np.ndarray:
    """MLAS's kernel for the dot products of x (K) with each of `rows` (R, K): 8 lane sums
    (lane l the products of k = l mod 8, in k order), reduced as the output's place in
    groups of 4 rows (then one of 2, then 1) has it, then added to start."""
    lanes = np.zeros((8, len(rows)), np.float32)
    for k in range(len(x)):
        lanes[k % 8] = lanes[k % 8] + x[k] * rows[:, k]
    v = lanes
    by_four = ((v[0] + v[1]) + v[2] + v[3]) + (((v[4] + v[5]) + v[6]) + v[7])
    by_two = ((v[0] + v[2]) + (v[4] + v[6])) + ((v[1] + v[3]) + (v[5] + v[7]))
    alone = ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))
    place = np.arange(len(rows))
    fours = len(rows) // 4 * 4
    reduced = np.where(place < fours, by_four, np.where(place < fours + (len(rows) - fours) // 2 * 2, by_two, alone))
    return reduced + start


def dense_is_exact(unit: float, largest_code: int, weights: np.ndarray, bias: np.ndarray | None) -> bool:
    """Whether a float32 MatMul of values fl32(unit * q), integers |q| <= `largest_code`,
    with float32 `weights` (K, N) and `bias` (N or None) is exact in every order of its
    additions: each value unit * q is a float32, and in every column all products and all
    partial sums are multiples of one power of two 2^g (g >= -149) no larger than
    2^(g + 24) in magnitude (float32 integers times 2^g), so every order gives the exact
    sum. The bound on the sums, computed in float64, is enlarged by its own error bound."""
    odd, low = _odd_significand(np.float64(unit))
    if abs(int(odd)) * largest_code > 1 << 24 or low < _FLOAT32_LOWEST_BIT:
        return False
    weights = np.abs(np.asarray(weights, dtype=np.float64))
    bias = np.zeros(weights.shape[1]) if bias is None else np.abs(np.asarray(bias, dtype=np.float64))
    _, weight_low = _odd_significand(weights)
    _, bias_low = _odd_significand(bias)
    grid = np.minimum(low + weight_low.min(axis=0), bias_low)
    bound = (abs(unit) * largest_code * weights.sum(axis=0) + bias) * (1 + (len(weights) + 2) * 2.0**-52)
    return bool(((grid >= _FLOAT32_LOWEST_BIT) & (bound <= np.ldexp(1.0, np.minimum(grid, 2000) + 24))).all())


def _odd_significand(values) -> tuple[np.ndarray, np.ndarray]:
    """values = odd * 2^low (float64 values; odd an odd integer); a 0 gets low = 2^30 (no bit)."""
    values = np.asarray(values, dtype=np.float64)
    mantissa, exponent = np.frexp(values)
    significand = np.ldexp(mantissa, 53).astype(np.int64)
    trailing = np.zeros(values.shape, np.int64)
    nonzero = significand != 0
    lowest = significand[nonzero] & -significand[nonzero]
    trailing[nonzero] = np.log2(lowest.astype(np.float64)).astype(np.int64)
    low = np.where(nonzero, exponent - 53 + trailing, 1 << 30)
    return significand >> trailing, low


def host_head(x: np.ndarray, head: dict) -> np.ndarray:
    """The codes less `offset` (float64) the float work before the first quantizer (a first
    layer included) and that quantizer, head {"chain", "quant", "offset"}, give the batch
    `x` (batch first); times "unit" where the head has one (a power-of-two scale: the
    quantizer's values, fixed-point numbers)."""
    codes = quant_codes(run_chain(x, head["chain"], channel_axis=1), head["quant"], channel_axis=1)
    return (codes.astype(np.float64) - head["offset"]) * head.get("unit", 1.0)


def host_tail(y: np.ndarray, tail: dict) -> np.ndarray:
    """The float32 results (as float64) the float work after the hardware, tail {"chain"},
    gives the batch `y` of exact values (batch first)."""
    return run_chain(y, tail["chain"], channel_axis=1).astype(np.float64)
