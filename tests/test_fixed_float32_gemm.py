"""The host's float32 MatMul (`fxhls.fixed.float32.onnxruntime_matmul`) equals onnxruntime's
CPU MatMul and Gemm with `==`, as qonnx's executor runs them (the weights an input of a
one-node model), on one thread (README: several threads may split the columns); its fused multiply-add equals the exact value rounded once (fractions);
and `dense_is_exact` holds only where every order of the sum gives the exact value."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import onnxruntime as ort
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from fxhls.fixed.float32 import dense_is_exact, fma32, onnxruntime_matmul


def _nearest_float32(value: Fraction) -> float:
    """The float32 nearest to `value` (ties to even), by integers: independent of numpy's rounding."""
    if value == 0:
        return 0.0
    exponent = max(value.numerator.bit_length() - value.denominator.bit_length() - 2, -126)
    while abs(value) >= Fraction(2) ** (exponent + 1):
        exponent += 1
    unit = Fraction(2) ** (max(exponent, -126) - 23)
    return float(round(value / unit) * unit)


def _onnxruntime(op: str, x: np.ndarray, weights: np.ndarray, bias, transposed: bool) -> np.ndarray:
    """onnxruntime's result for a one-node model whose inputs are x, the weights (as the
    node holds them) and the bias, fed at run time as qonnx's executor feeds them."""
    held = np.ascontiguousarray(weights.T) if transposed else weights
    feeds = {"x": x, "w": held, **({"c": bias} if bias is not None else {})}
    node = helper.make_node(op, list(feeds), ["y"], **({"transB": int(transposed)} if op == "Gemm" else {}))
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape)
                                            for k, v in feeds.items()],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # threads split the columns, and each part picks its own K block
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False, min_value=-2.0**60, max_value=2.0**60)


@settings(max_examples=400, deadline=None)
@given(finite32, finite32, finite32)
def test_fma32_is_the_exact_value_rounded_once(a, b, c):
    got = fma32(np.float32(a), np.float32(b), np.float32(c))
    assert float(got) == _nearest_float32(Fraction(a) * Fraction(b) + Fraction(c))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**9).map(lambda k: 2 * k + 1), st.integers(-30, 30), st.sampled_from([-1, 0, 1]),
       st.sampled_from([1.0, -1.0]), st.sampled_from([1.0, -1.0]))
def test_fma32_rounds_ties_to_even_and_their_neighbours_to_nearest(odd, shift, nudge, sign, c_sign):
    """c = 2^(24 + shift) has an ulp of 2^(shift + 1): a * b = odd * 2^shift puts the sum on
    a float32 midpoint, a nudge of 2^(shift - 12) just off it."""
    a = np.float32(sign * (odd * 2.0**shift + nudge * 2.0**(shift - 12)))
    b, c = np.float32(1.0), np.float32(c_sign * 2.0**(24 + shift))
    exact = Fraction(float(a)) + Fraction(float(c))
    assert float(fma32(a, b, c)) == _nearest_float32(exact)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_host_matmul_equals_onnxruntime(data):
    """Random shapes (a batch of one and one output included: MLAS's own kernels for them),
    scales, biases, MatMul and Gemm with and without transB."""
    rows = data.draw(st.sampled_from([1, 1, 2, 3, 8, 40]), "rows")
    depth = data.draw(st.integers(1, 1100), "K")
    outputs = data.draw(st.sampled_from([1, 2, 3, 4, 5, 7, 10, 16, 17, 33, 64, 65, 130]), "N")
    op = data.draw(st.sampled_from(["MatMul", "Gemm"]), "op")
    transposed = op == "Gemm" and data.draw(st.booleans(), "transB")
    seed = data.draw(st.integers(0, 2**32 - 1), "seed")
    rng = np.random.default_rng(seed)
    x = (rng.integers(-15, 16, (rows, depth)) * np.float32(rng.uniform(1e-3, 1))).astype(np.float32)
    weights = (rng.normal(size=(depth, outputs)) * rng.uniform(1e-2, 1)).astype(np.float32)
    bias = rng.normal(size=outputs).astype(np.float32) if op == "Gemm" and rng.random() < 0.7 else None
    expected = _onnxruntime(op, x, weights, bias, transposed)
    got = onnxruntime_matmul(x, weights, bias, transposed)
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert int((got != expected).sum()) == 0


def _exact_rounding(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return np.array([[_nearest_float32(sum(Fraction(float(a)) * Fraction(float(w)) for a, w in zip(row, column))
                                       + Fraction(float(b)))
                      for column, b in zip(weights.T, bias)] for row in x], dtype=np.float32)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3), st.integers(1, 300), st.integers(1, 6), st.sampled_from([1, 3, 5, 0.1, 0.0371]),
       st.integers(-12, 2), st.integers(2, 9), st.integers(0, 2**32 - 1))
def test_dense_is_exact_only_where_every_order_gives_the_exact_sum(rows, depth, outputs, significand, exponent,
                                                                    bits, seed):
    """Where `dense_is_exact` says so, onnxruntime's order, the reversed order and the exact
    sum rounded once agree; where it does not, the sums are not provably exact: either a
    value is no float32 multiple of the unit or a sum can leave the float32 grid."""
    rng = np.random.default_rng(seed)
    unit = float(np.float32(significand * 2.0**exponent))
    largest = (1 << bits) - 1
    x = (rng.integers(-largest, largest + 1, (rows, depth)) * np.float32(unit)).astype(np.float32)
    weights = (rng.integers(-7, 8, (depth, outputs)) * np.float32(2.0**rng.integers(-9, 0))).astype(np.float32)
    bias = (rng.integers(-64, 64, outputs) * np.float32(2.0**-12)).astype(np.float32)
    exact = _exact_rounding(x, weights, bias)
    if dense_is_exact(unit, largest, weights, bias):
        assert (x.astype(np.float64) == np.float64(unit) * np.rint(x / np.float32(unit))).all()
        assert int((onnxruntime_matmul(x, weights, bias) != exact).sum()) == 0
        reversed_order = onnxruntime_matmul(x[:, ::-1], weights[::-1], bias, transposed=True)
        assert int((reversed_order != exact).sum()) == 0


def test_dense_is_exact_says_no_to_a_scale_whose_values_round_and_to_a_sum_too_long():
    weights = np.full((4, 2), 0.5, np.float32)
    assert dense_is_exact(3 * 2.0**-6, 127, weights, None)
    assert not dense_is_exact(float(np.float32(0.1)), 127, weights, None)  # 0.1 * q rounds
    assert not dense_is_exact(2.0**-6, 127, np.full((4, 2), np.float32(1 + 2.0**-23)), None)  # 48-bit products
    assert not dense_is_exact(2.0**-6, 127, weights, np.array([2.0**30, 0], np.float32))  # bias far above the grid
