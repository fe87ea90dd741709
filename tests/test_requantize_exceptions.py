"""Requantizations to more than 10 bits whose float32 arithmetic no exact multiply-and-shift
equals: a multiply-and-shift with exceptions (`fxhls.ir.requantize_exceptions`). Its
derivation against the float chain on every accumulator value (hypothesis), and models
end to end: emulate == qonnx's executor on every input code, csim == emulate and RTL
cosim == emulate on the accumulator values at every exception's ends."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import given, settings, strategies as st
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model

from float_scaled_models import WIDE_INPUT_SCALE, brevitas_wide, wide_requantization
from fxhls.emulation import emulate
from fxhls.fixed import FixedType
from fxhls.fixed.float32 import quant_codes, run_chain
from fxhls.hls.build import build_project
from fxhls.ir import OPS, Node
from fxhls.ir.requantize_choice import described
from fxhls.ir.requantize_mul_shift import MulShiftConstants, mul_shift
from fxhls.onnx import load_onnx
from fxhls.sim.csim import run_csim
from fxhls.sim.rtl_cosim import cosim_design


def _qonnx(onnx_model, x: np.ndarray) -> np.ndarray:
    wrapper = cleanup_model(ModelWrapper(onnx_model.SerializeToString()))
    return next(iter(execute_onnx(wrapper, {wrapper.graph.input[0].name: x}).values()))


def _mul_shift(graph) -> Node:
    return next(n for n in graph.nodes if n.op == "MulShift")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.0625, 4.0, width=32), min_size=3, max_size=3), st.integers(11, 16),
       st.floats(2.0**-9, 0.0625, width=32), st.sampled_from(["ROUND", "FLOOR", "HALF_UP", "CEIL"]), st.booleans())
def test_a_mul_shift_with_exceptions_equals_the_chain_on_every_value(scales, bits, out_scale, rounding, falling):
    """Arbitrary float32 scales, 11 to 16 output bits, rising and falling channels: where a
    multiply-and-shift (with or without exceptions) is found, its op equals the float32
    chain on every value of a 14-bit accumulator; where none is, the reason is one phrase."""
    source = FixedType(14, 14, True)
    chain = {"rescale": {"zero": [0.0], "scales": [[0.0173], [s * (-1 if falling and k == 1 else 1)
                                                             for k, s in enumerate(scales)]],
                         "bias": [0.25, -1.0, 0.0]}, "steps": [{"op": "mul", "constant": [1.5, 0.75, 2.0]}]}
    quant = {"scale": [out_scale], "zero": [0.0], "bits": bits, "signed": True, "narrow": False, "rounding": rounding}
    found = mul_shift(chain, quant, source, 3)
    if isinstance(found, str):
        assert "\n" not in found and "exception" in found
        return
    codes = np.arange(source.min_code, source.max_code + 1, dtype=np.float64)
    values = np.repeat(codes[:, None], 3, axis=1)
    expected = quant_codes(run_chain(values, chain, 1), quant, 1)
    node = Node("MulShift", "m", ["x"], ["y"], {"multiplier": found.multiplier, "bias": found.bias,
                                                "shift": found.shift, "shift_rounding": found.rounding,
                                                "low": found.low, "high": found.high, "frac_bits": 0,
                                                "exceptions": found.exceptions})
    assert int((OPS["MulShift"].execute(node, [values])[0] != expected).sum()) == 0


def test_exceptions_are_found_where_float32_rounding_moves_thresholds():
    """The hand-built chain of `wide_requantization` has no exact multiply-and-shift; the
    exceptions correct it, and without them the same constants differ from the chain."""
    source = FixedType(16, 16, True)
    chain = {"rescale": {"zero": [0.0], "scales": [[np.float32(WIDE_INPUT_SCALE)], [2.9871]]}, "steps": []}
    quant = {"scale": [0.0123], "zero": [0.0], "bits": 16, "signed": True, "narrow": False, "rounding": "ROUND"}
    found = mul_shift(chain, quant, source, 1)
    assert isinstance(found, MulShiftConstants) and found.exception_count > 0
    codes = np.arange(source.min_code, source.max_code + 1, dtype=np.float64)[:, None]
    expected = quant_codes(run_chain(codes, chain, 1), quant, 1)
    attrs = {"multiplier": found.multiplier, "bias": found.bias, "shift": found.shift,
             "shift_rounding": found.rounding, "low": found.low, "high": found.high, "frac_bits": 0}
    with_them = OPS["MulShift"].execute(Node("MulShift", "m", ["x"], ["y"], {**attrs, "exceptions": found.exceptions}),
                                        [codes])[0]
    without = OPS["MulShift"].execute(Node("MulShift", "m", ["x"], ["y"], attrs), [codes])[0]
    assert int((with_them != expected).sum()) == 0
    assert int((without != expected).sum()) >= found.exception_count


def _exception_ends(node: Node) -> np.ndarray:
    """Every accumulator code at or next to an end of one of `node`'s exception ranges."""
    ends = {v + d for ranges in node.attrs["exceptions"] for first, last, _ in ranges
            for v, d in ((first, -1), (first, 0), (last, 0), (last, 1))}
    return np.array(sorted(ends), dtype=np.float64)


@pytest.mark.parametrize("bits", [12, 16])
def test_a_wide_requantization_of_every_input_code_emulates_as_qonnx_and_csim_cosim_equal_it(bits, tmp_path):
    """All 65,536 codes of the 16-bit input through the exceptions' multiply-and-shift:
    emulate == qonnx's executor; then csim == emulate and RTL cosim == emulate on the
    codes at and next to each exception's ends (where a wrong comparator would show)."""
    every = np.arange(-2**15, 2**15, dtype=np.float64)
    x = np.repeat((every.astype(np.float32) * np.float32(WIDE_INPUT_SCALE))[:, None], 4, axis=1)
    assert (np.round(x / np.float32(WIDE_INPUT_SCALE)) == every[:, None]).all()
    onnx_model = wide_requantization(bits, batch=len(x))
    graph = load_onnx(onnx_model)
    node = _mul_shift(graph)
    assert any(node.attrs["exceptions"]) and "exceptions: at most" in described(graph, node)
    expected = _qonnx(onnx_model, x)
    assert len(np.unique(expected)) > 2**(bits - 1)
    assert int((emulate(graph, x) != expected).sum()) == 0

    ends = _exception_ends(node)
    probe = np.repeat((ends.astype(np.float32) * np.float32(WIDE_INPUT_SCALE))[:, None], 4, axis=1)
    onnx.save(wide_requantization(bits), tmp_path / "m.onnx")
    out, _ = build_project(tmp_path / "m.onnx", "ultra96v2", tmp_path / "build")
    wanted = emulate(tmp_path / "m.onnx", probe)
    assert int((run_csim(out, probe) != wanted).sum()) == 0
    _, summary = cosim_design(tmp_path / "build", probe, model=tmp_path / "m.onnx")
    assert summary["mismatches"] == 0


def test_a_wide_requantization_with_a_zero_point_emulates_as_qonnx_on_every_input_code():
    """An integer zero point (5): the tensor holds the codes less it, the multiply-and-shift's
    bias less 5 * 2^shift (the floor shifts exactly); == qonnx on all 65,536 input codes."""
    every = np.arange(-2**15, 2**15, dtype=np.float64)
    x = np.repeat((every.astype(np.float32) * np.float32(WIDE_INPUT_SCALE))[:, None], 4, axis=1)
    onnx_model = wide_requantization(12, batch=len(x), zero=5.0)
    graph = load_onnx(onnx_model)
    assert any(_mul_shift(graph).attrs["exceptions"])
    assert int((emulate(graph, x) != _qonnx(onnx_model, x)).sum()) == 0


@pytest.mark.parametrize("bits", [12, 16])
def test_a_brevitas_wide_activation_is_a_mul_shift_with_exceptions_csim_and_cosim_equal_emulate(bits, tmp_path):
    """Int8ActPerTensorFloat at 12 or 16 bits after a QuantLinear (refused before: no
    multiply-and-shift equals its float32 arithmetic): csim == emulate, RTL cosim ==
    emulate; the report names the exceptions."""
    x = brevitas_wide(bits, tmp_path / "m.onnx", samples=16)
    graph = load_onnx(onnx.load(tmp_path / "m.onnx"))
    assert any(_mul_shift(graph).attrs["exceptions"])
    out, _ = build_project(tmp_path / "m.onnx", "ultra96v2", tmp_path / "build")
    assert int((run_csim(out, x) != emulate(tmp_path / "m.onnx", x)).sum()) == 0
    report = (tmp_path / "build" / "report" / "layers.md").read_text().replace("\\", "")
    assert "exceptions: at most" in report
    _, summary = cosim_design(tmp_path / "build", x, model=tmp_path / "m.onnx")
    assert summary["mismatches"] == 0


def test_a_brevitas_12_bit_activation_emulates_as_qonnx_executes_it(tmp_path):
    """The 12-bit model's float outputs == qonnx's executor on 128 samples. (At 16 bits,
    qonnx's float32 Gemm, a sum of rounded float32 products, can land one float32 ulp
    from fxhls's fl32(s_x * s_w * acc + bias) on a rounding boundary of the finer
    quantizer: about one code in 2,000 differs there, before any requantization.)"""
    x = brevitas_wide(12, tmp_path / "m.onnx", samples=16)
    onnx_model = onnx.load(tmp_path / "m.onnx")
    graph = load_onnx(onnx_model)
    mismatches = 0
    for seed in range(8):
        batch = x if seed == 0 else (np.random.default_rng(seed).normal(size=x.shape) * 2).astype(np.float32)
        mismatches += int((emulate(graph, batch) != _qonnx(onnx_model, batch)).sum())
    assert mismatches == 0
