"""fxhls_mvu as dense layers (Gemm, maybe thresholded) against the IR's execution, with
==, under random back-pressure; and its clocks per vector against SF * NF.

All layers sit in one Verilator build (tests/rtl/compute_bank.v.j2) and stream at once.
"""

from __future__ import annotations

import numpy as np
import pytest

from fxhls.fixed import FixedType as T
from fxhls.ir import execute
from fxhls.rtl.compute import binary_lanes, mvu_config, multiplier_lanes
from fxhls.sim.cosim import stream_timing
from rtl_compute_cases import Spec, make_case, mismatched_layers, run_bank

SAMPLES = 3
# name, x, weights, weight type, in, out, SIMD, PE, then bias, accumulator, out type, threshold
SPECS = [
    # multipliers, exact accumulator, rounding and saturating output cast; SF = 3, NF = 2
    Spec("d_mul", T(6, 2), "mul", T(5, 2), 6, 4, 2, 2, T(7, 3), None, T(8, 3, True, "AP_RND_CONV", "AP_SAT")),
    # unsigned inputs, a narrowed accumulator that rounds and saturates at every step: SIMD = 1
    Spec("d_mul_step", T(4, 1, False), "mul", T(5, 1), 5, 3, 1, 1, T(6, 2), T(7, 3, True, "AP_RND", "AP_SAT")),
    # a narrowed accumulator that only wraps (never rounds): modular, so SIMD = 4 holds C++'s order
    Spec("d_mul_wrap", T(5, 2), "mul", T(4, 1), 8, 4, 4, 2, None, T(8, 2)),
    # K-hot (K = 2) shift-add, exact accumulator, NF = 4
    Spec("d_khot2", T(6, 3), ("khot", 2), T(6, 2), 9, 4, 3, 1, T(5, 2), None, T(6, 3, True, "AP_RND", "AP_WRAP")),
    # K = 1 (powers of two) with a narrowed stepwise accumulator, PE = 2
    Spec("d_khot1_step", T(5, 1), ("khot", 1), T(6, 3), 4, 2, 1, 2, None, T(6, 3, True, "AP_RND_ZERO", "AP_SAT_SYM"), T(4, 2)),
    # binarized: XNOR-popcount with per-neuron thresholds (the BNN Threshold fused), 1-bit outputs
    Spec("d_xnor_thr", "binary", "binary", T(2, 2), 12, 6, 4, 2, threshold=True),
    # binarized with a bias and a cast output
    Spec("d_xnor_bias", "binary", "binary", T(2, 2), 8, 3, 8, 1, T(5, 3), None, T(5, 4, True, "AP_TRN_ZERO", "AP_SAT")),
    # -1/+1 weights on fixed-point inputs: add or subtract
    Spec("d_binw", T(6, 3), "binary", T(2, 2), 6, 2, 3, 2, T(6, 3)),
    # fully parallel (SF = NF = 1, one-word ROMs are constants): a vector every clock
    Spec("d_full", T(4, 2), ("khot", 2), T(5, 2), 4, 3, 4, 3, T(5, 2), None, T(6, 3, True, "AP_RND_CONV", "AP_SAT")),
    # a flattened (2, 2, 3) image streams pixel by pixel: the weight columns follow
    Spec("d_flat", T(5, 2), "mul", T(4, 2), 12, 2, 3, 1, T(4, 2), None, T(6, 3, True, "AP_RND", "AP_SAT"),
         image=(3, 2, 2)),
    # binarized inputs, K-hot weights, unsigned saturating output
    Spec("d_binx_khot", "binary", ("khot", 2), T(5, 2), 6, 4, 2, 4, None, None, T(6, 4, False, "AP_TRN", "AP_SAT")),
]


@pytest.fixture(scope="module")
def cases():
    return [make_case(spec, SAMPLES, seed) for seed, spec in enumerate(SPECS)]


def test_dense_layers_equal_ir_execution_under_backpressure(cases, tmp_path):
    mismatches = mismatched_layers(cases, run_bank(cases, tmp_path, pause=0.3))
    assert not mismatches, f"RTL differs from the IR's execution: {mismatches}"


def test_dense_layers_take_sf_times_nf_clocks_per_vector(cases, tmp_path):
    run = run_bank(cases, tmp_path, pause=0.0)
    for case in cases:
        timing = stream_timing(run.input_cycles[f"{case.layer.name}_s_axis"],
                               run.output_cycles[f"{case.layer.name}_m_axis"], SAMPLES)
        mvu = case.layer.mvu
        assert timing.interval == mvu.sf * mvu.nf == case.layer.cycles_per_sample, case.layer.name
        assert timing.latency <= mvu.sf * mvu.nf + 4, case.layer.name


def test_narrowed_accumulators_change_the_results(cases):
    """The stepwise cases would fail on an RTL that accumulated exactly: their narrowed
    accumulators round or saturate on this data."""
    for case in cases:
        if not case.layer.mvu.stepwise:
            continue
        layer = next(node for node in case.graph.nodes if node.op == "Gemm")
        narrowed = execute(case.graph, case.x)[1]
        acc_type = layer.attrs.pop("acc_type")
        try:
            exact = execute(case.graph, case.x)[1]
        finally:
            layer.attrs["acc_type"] = acc_type
        assert bool((narrowed != exact).any()), case.layer.name


def test_folding_and_accumulator_errors():
    weights = np.ones((4, 6))
    lanes = multiplier_lanes(weights, T(4, 2))
    acc, out = T(16, 8), T(8, 4)
    with pytest.raises(ValueError, match="must divide"):
        mvu_config(T(8, 4), lanes, None, acc, False, out, simd=4, pe=2)
    with pytest.raises(ValueError, match="must divide"):
        mvu_config(T(8, 4), lanes, None, acc, False, out, simd=3, pe=3)
    with pytest.raises(ValueError, match="needs SIMD=1"):
        mvu_config(T(8, 4), lanes, None, T(8, 4, True, "AP_RND", "AP_SAT"), True, out, simd=2, pe=2)
    with pytest.raises(ValueError, match="must be stepwise"):
        mvu_config(T(8, 4), lanes, None, T(12, 8), False, out, simd=2, pe=2)
    with pytest.raises(ValueError, match="output type or thresholds"):
        mvu_config(T(8, 4), lanes, None, acc, False, None, simd=2, pe=2)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        binary_lanes(np.zeros((2, 2)), x_binary=True)
