"""Multiply-and-shift requantization: its integer semantics against `fxhls.fixed.quantize`,
its derivation from a float chain against that chain on every accumulator value, the
choice between it and thresholds, and a 16-bit requantization end to end (== qonnx)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from float_scaled_models import BATCH, residual_wide
from fxhls.emulation import emulate
from fxhls.fixed import FixedType, quantize
from fxhls.fixed.float32 import quant_codes, run_chain
from fxhls.fixed.mul_shift import MUL_SHIFT_ROUNDING, mul_shift_codes
from fxhls.ir import OPS, Node
from fxhls.ir.requantize_choice import choose_requantization, described
from fxhls.ir.requantize_mul_shift import MulShiftConstants, mul_shift
from fxhls.onnx import load_onnx


@settings(max_examples=60, deadline=None)
@given(st.integers(-2**20, 2**20), st.integers(-2**17, 2**17), st.integers(-2**30, 2**30), st.integers(0, 24),
       st.sampled_from(MUL_SHIFT_ROUNDING))
def test_mul_shift_codes_round_as_an_ap_fixed_cast_does(x, multiplier, bias, shift, rounding):
    """round((x*M + B) / 2^S) is the ap_fixed cast of that exact value to an integer type."""
    total = x * multiplier + bias
    cast = FixedType(48, 48, True, rounding, "AP_WRAP")
    expected = quantize(np.array([total * 2.0**-shift]), cast)[0]
    assert mul_shift_codes(np.array([x]), multiplier, bias, shift, -2**62, 2**62, rounding)[0] == expected
    assert mul_shift_codes(np.array([x]), multiplier, bias, shift, -5, 7, rounding)[0] == min(max(expected, -5), 7)


def _every_value(constants: MulShiftConstants, chain: dict, quant: dict, source: FixedType, channels: int) -> int:
    """How many values of `source`'s grid the MulShift op and the float chain give different codes."""
    codes = np.arange(source.min_code, source.max_code + 1, dtype=np.float64)
    values = np.repeat((codes * source.lsb)[:, None], channels, axis=1)
    expected = quant_codes(run_chain(values, chain, 1), quant, 1)
    node = Node("MulShift", "m", ["x"], ["y"], {"multiplier": constants.multiplier, "bias": constants.bias,
                                                "shift": constants.shift, "shift_rounding": constants.rounding,
                                                "low": constants.low, "high": constants.high,
                                                "frac_bits": source.frac_bits, "exceptions": constants.exceptions})
    assert len(np.unique(expected)) > 16
    return int((OPS["MulShift"].execute(node, [values])[0] != expected).sum())


@pytest.mark.parametrize("rounding", ["ROUND", "HALF_UP", "HALF_DOWN", "FLOOR", "CEIL"])
def test_an_exact_chain_has_a_mul_shift_equal_to_it_on_every_value(rounding):
    """Scales of few significant bits, a power-of-two output scale: the float32 chain is
    exact, ties included (ROUND: to even, HALF_UP: away from zero, HALF_DOWN: toward it),
    on rising and falling channels, signed and unsigned outputs."""
    source = FixedType(14, 12, True)
    chain = {"rescale": {"zero": [0.0], "scales": [[3 * 2.0**-6], [5 * 2.0**-7, 3 * 2.0**-7, -7 * 2.0**-8, 2.0**-5]],
                         "bias": [0.5, -0.25, 0.0, 1.0]}, "steps": []}
    for signed in (True, False):
        quant = {"scale": [2.0**-6], "zero": [0.0], "bits": 12, "signed": signed, "narrow": False,
                 "rounding": rounding}
        found = mul_shift(chain, quant, source, 4)
        assert isinstance(found, MulShiftConstants), found
        assert _every_value(found, chain, quant, source, 4) == 0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 31), min_size=3, max_size=3), st.integers(-6, 6), st.integers(2, 12),
       st.sampled_from(["ROUND", "FLOOR", "HALF_UP", "CEIL"]), st.floats(2.0**-9, 0.25, width=32),
       st.booleans())
def test_a_found_mul_shift_equals_the_chain_on_every_value(significands, exponent, bits, rounding, out_scale, relu):
    """Any chain, exact or not (an arbitrary float32 output scale, a ReLU, a Mul): where
    a multiply-and-shift is found, it equals the chain on every accumulator value."""
    source = FixedType(12, 10, True)
    chain = {"rescale": {"zero": [0.0], "scales": [[0.75], [s * 2.0**exponent * (-1) ** s for s in significands]],
                         "bias": [0.25, -1.0, 0.0]},
             "steps": [{"op": "mul", "constant": [1.5, 0.75, 2.0]}] + ([{"op": "relu"}] if relu else [])}
    quant = {"scale": [out_scale], "zero": [0.0], "bits": bits, "signed": True, "narrow": False, "rounding": rounding}
    found = mul_shift(chain, quant, source, 3)
    if isinstance(found, MulShiftConstants):
        codes = np.arange(source.min_code, source.max_code + 1, dtype=np.float64)
        values = np.repeat((codes * source.lsb)[:, None], 3, axis=1)
        expected = quant_codes(run_chain(values, chain, 1), quant, 1)
        node = Node("MulShift", "m", ["x"], ["y"], {"multiplier": found.multiplier, "bias": found.bias,
                                                    "shift": found.shift, "shift_rounding": found.rounding,
                                                    "low": found.low, "high": found.high,
                                                    "frac_bits": source.frac_bits, "exceptions": found.exceptions})
        assert int((OPS["MulShift"].execute(node, [values])[0] != expected).sum()) == 0


def test_the_choice_takes_thresholds_for_few_bits_and_a_mul_shift_for_many():
    source = FixedType(20, 20, True)
    chain = {"rescale": {"zero": [0.0], "scales": [[3 * 2.0**-6], [5 * 2.0**-7]], "bias": [0.5]}, "steps": []}
    quant = {"scale": [2.0**-2], "zero": [0.0], "bits": 2, "signed": True, "narrow": False, "rounding": "ROUND"}
    few = choose_requantization(chain, quant, source, 1)
    many = choose_requantization(chain, {**quant, "bits": 16}, source, 1)
    assert (few.op, many.op) == ("MultiThreshold", "MulShift")
    assert few.cost.dsp == 0 and many.cost.dsp == 1 and many.cost.total < few.cost.total * (2**16 - 1) / 3
    assert "65,535 thresholds per channel" in many.other


def test_a_wide_requantization_without_a_mul_shift_is_refused_in_one_line():
    source = FixedType(20, 20, True)
    chain = {"rescale": {"zero": [0.0], "scales": [[0.0123], [0.0371]], "bias": [0.3]}, "steps": []}
    quant = {"scale": [0.0017], "zero": [0.0], "bits": 16, "signed": True, "narrow": False, "rounding": "ROUND"}
    with pytest.raises(ValueError) as info:
        choose_requantization(chain, quant, source, 1)
    assert "65,535 thresholds" in str(info.value) and "multiply-and-shift" in str(info.value)
    assert "exception ranges in a channel (at most 64)" in str(info.value)


def test_a_residual_add_of_two_scales_then_a_16_bit_requantization_emulates_as_qonnx_executes_it():
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    onnx_model = residual_wide()
    graph = load_onnx(onnx_model)
    assert [n.op for n in graph.nodes][3:] == ["Table", "Table", "Add", "MultiThreshold", "Gemm", "MulShift",
                                               "HostFloat"]
    shift = next(n for n in graph.nodes if n.op == "MulShift")
    assert "multiply-and-shift" in described(graph, shift)
    wrapper = cleanup_model(ModelWrapper(onnx_model.SerializeToString()))
    mismatches = 0
    for seed in range(8):
        x = (np.random.default_rng(seed).normal(size=(BATCH, 8)) * 2).astype(np.float32)
        expected = next(iter(execute_onnx(wrapper, {wrapper.graph.input[0].name: x}).values()))
        assert len(np.unique(expected)) > 40
        mismatches += int((emulate(graph, x) != expected).sum())
    assert mismatches == 0
