"""Gemm, Conv and the average pools with sums wider than float64's 53 bits: the emulator
computes them exactly and casts them by the node's out_type (or refuses, naming the node).

The expected values are exact sums of Python Fractions, cast with `fxhls.fixed.codes`
(checked against ap_fixed.h in test_fixed_dot_wide.py and test_fixed_codes.py).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from fxhls.fixed import FixedType, quantize
from fxhls.fixed.codes import cast_codes, from_codes
from fxhls.ir import Graph, Node, Tensor, execute, infer_types

WIDE = FixedType(40, 20)  # products of 80 bits
OUT = FixedType(53, 40, True, "AP_RND_CONV", "AP_SAT")  # the sums reach 2**41: some saturate


def _graph(op, attrs, input_shape, input_type, constants=()):
    tensors = {"x": Tensor("x", input_shape, input_type), "y": Tensor("y")}
    for name, data, t in constants:
        tensors[name] = Tensor(name, tuple(data.shape), t, data)
    node = Node(op, "wide", ["x", *(name for name, _, _ in constants)], ["y"], attrs)
    return infer_types(Graph([node], tensors, ["x"], ["y"]))


def _values(rng, shape, t: FixedType) -> np.ndarray:
    """Values of `t` across its whole range, every bit in use."""
    return quantize(rng.uniform(t.min, t.max, shape), t)


def _cast(exact_sums, t: FixedType) -> np.ndarray:
    """Exact Fractions (dyadic, denominators up to 2**200) cast to `t`, as floats."""
    codes = np.array([int(v * 2**200) for v in np.ravel(exact_sums)], dtype=object)
    return from_codes(cast_codes(codes, 200, t), t.frac_bits).reshape(np.shape(exact_sums))


def _fractions(values: np.ndarray) -> np.ndarray:
    return np.vectorize(Fraction, otypes=[object])(values)


def test_a_gemm_past_53_bits_equals_the_exact_sum_cast_to_its_out_type():
    rng = np.random.default_rng(1)
    x, w, b = _values(rng, (5, 8), WIDE), _values(rng, (3, 8), WIDE), _values(rng, 3, WIDE)
    graph = _graph("Gemm", {"out_type": str(OUT)}, (8,), WIDE, [("w", w, WIDE), ("b", b, WIDE)])
    want = _cast(_fractions(x) @ _fractions(w).T + _fractions(b), OUT)
    assert graph.tensor("y").type == OUT
    got = execute(graph, x)[0]
    assert got.tolist() == want.tolist()


def test_a_gemm_rounds_the_exact_sum_where_float64_would_see_a_tie():
    """2**36 + 1/2 + 2**-40 needs 77 bits: float64 keeps the tie 2**36 + 1/2, which ties-to-even
    rounds down; the exact sum is above the tie and rounds up."""
    x, w = np.array([[2.0**18, 0.5, 2.0**-20]]), np.array([[2.0**18, 1.0, 2.0**-20]])
    out = FixedType(53, 53, True, "AP_RND_CONV", "AP_SAT")
    graph = _graph("Gemm", {"out_type": str(out)}, (3,), WIDE, [("w", w, WIDE)])
    assert quantize(x @ w.T, out).item() == 2.0**36
    assert execute(graph, x)[0].item() == 2.0**36 + 1


def test_a_conv_past_53_bits_equals_the_exact_sum_cast_to_its_out_type():
    rng = np.random.default_rng(2)
    x, w = _values(rng, (2, 2, 4, 4), WIDE), _values(rng, (3, 2, 3, 3), WIDE)
    graph = _graph("Conv", {"strides": [1, 1], "pads": [1, 1], "out_type": str(OUT)}, (2, 4, 4), WIDE,
                   [("w", w, WIDE)])
    padded = _fractions(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))))
    wf = _fractions(w)
    sums = np.empty((2, 3, 4, 4), dtype=object)
    for n, o, i, j in np.ndindex(sums.shape):
        sums[n, o, i, j] = (padded[n, :, i:i + 3, j:j + 3] * wf[o]).sum()
    assert execute(graph, x)[0].tolist() == _cast(sums, OUT).tolist()


def test_an_average_pool_past_53_bits_equals_the_exact_average_cast_to_its_out_type():
    x_type, reciprocal = FixedType(50, 4), FixedType(18, 0, False, "AP_RND_CONV", "AP_SAT")
    x = _values(np.random.default_rng(3), (8, 1, 3, 30), x_type)
    out = FixedType(53, 4, True, "AP_RND", "AP_SAT")  # last place 2**-49, near float64's for these averages
    attrs = {"kernel_shape": [3, 3], "strides": [3, 3], "reciprocal_type": str(reciprocal), "out_type": str(out)}
    graph = _graph("AveragePool", attrs, (1, 3, 30), x_type)
    scale = Fraction(quantize(np.array([1 / 9]), reciprocal)[0])
    xf = _fractions(x)
    sums = np.array([[[[xf[n, 0, :, 3 * j:3 * j + 3].sum() * scale for j in range(10)]]] for n in range(8)])
    assert execute(graph, x)[0].tolist() == _cast(sums, out).tolist()


def test_a_global_average_pool_past_53_bits_is_exact():
    x_type = FixedType(52, 4)
    x = _values(np.random.default_rng(4), (4, 8, 2, 3), x_type)  # 6 values: 1/6 quantized
    reciprocal, out = FixedType(20, 0, False, "AP_RND_CONV", "AP_SAT"), FixedType(53, 4, True, "AP_RND_INF", "AP_SAT")
    graph = _graph("GlobalAveragePool", {"reciprocal_type": str(reciprocal), "out_type": str(out)}, (8, 2, 3), x_type)
    scale = Fraction(quantize(np.array([1 / 6]), reciprocal)[0])
    sums = _fractions(x).sum(axis=(2, 3), keepdims=True) * scale
    assert execute(graph, x)[0].tolist() == _cast(sums, out).tolist()


def test_a_wide_accumulator_without_an_out_type_is_refused_naming_the_node():
    w = np.ones((3, 8))
    graph = _graph("Gemm", {}, (8,), WIDE, [("w", w, WIDE)])
    with pytest.raises(ValueError, match=r"^node 'wide': its accumulator ap_fixed<83,43> is wider than float64 holds "
                                         r"exactly \(53 bits\) and it has no out_type; .*lower_for_hardware"):
        execute(graph, np.ones((1, 8)))


def test_a_narrow_gemm_still_sums_in_float64_at_once(monkeypatch):
    from fxhls.ir.ops import dense

    monkeypatch.setattr(dense, "dot_with_bias", None)  # the integer route would fail
    narrow = FixedType(8, 3)
    w = _values(np.random.default_rng(5), (3, 8), narrow)
    graph = _graph("Gemm", {}, (8,), narrow, [("w", w, narrow)])
    x = _values(np.random.default_rng(6), (4, 8), narrow)
    assert execute(graph, x)[0].tolist() == (x @ w.T).tolist()


def test_a_wide_matmul_equals_the_gemm_of_its_transposed_weights():
    rng = np.random.default_rng(7)
    x, w = _values(rng, (4, 8), WIDE), _values(rng, (8, 3), WIDE)
    matmul = _graph("MatMul", {"out_type": str(OUT)}, (8,), WIDE, [("w", w, WIDE)])
    gemm = _graph("Gemm", {"out_type": str(OUT)}, (8,), WIDE, [("w", w.T.copy(), WIDE)])
    assert execute(matmul, x)[0].tolist() == execute(gemm, x)[0].tolist() == _cast(_fractions(x) @ _fractions(w), OUT).tolist()


def test_an_out_type_too_wide_for_float64_is_refused_naming_the_node():
    graph = _graph("Gemm", {"out_type": "ap_fixed<60,30>"}, (8,), WIDE, [("w", np.ones((3, 8)), WIDE)])
    with pytest.raises(ValueError, match=r"^node 'wide': .* and its out_type ap_fixed<60,30> is too;"):
        execute(graph, np.ones((1, 8)))
