"""fxhls_mvu with its dot product pipelined (DOT_STAGE > 0: the products registered, then
every DOT_STAGE levels of the adder tree) against the IR's execution with ==, under random
back-pressure (the pipeline registers hold while the output waits); the interval stays
SF * NF clocks per vector (and a convolution's estimate), the latency grows by exactly
the registers (`MvuConfig.dot_registers`).

Kinds: multipliers, K-hot, XNOR-popcount (with padding flags per window tap, whose lanes
count in neither the popcount nor the lanes subtracted), binarized inputs with K-hot
weights; SIMD of 1 to 36 lanes (trees of uneven halves, whose shallower halves are delayed
to match), NF > 1 (the neuron ROM read with the fold of the beat the pipeline holds).
"""

from __future__ import annotations

import pytest

from fxhls.fixed import FixedType as T
from fxhls.rtl.compute import dot_registers
from fxhls.sim.cosim import stream_timing
from rtl_compute_cases import Spec, make_case, mismatched_layers, run_bank

SAMPLES = 3
SPECS = [
    # multipliers, SF = 3, NF = 2, a register after the products and every adder level
    Spec("p_mul1", T(6, 2), "mul", T(5, 2), 15, 4, 5, 2, T(7, 3), None, T(8, 3, True, "AP_RND_CONV", "AP_SAT"),
         dot_stage=1),
    # K-hot, 7 lanes (halves of 3 and 4), NF = 4, every 2 levels
    Spec("p_khot2", T(6, 3), ("khot", 2), T(6, 2), 14, 4, 7, 1, T(5, 2), None, T(6, 3, True, "AP_RND", "AP_WRAP"),
         dot_stage=2),
    # binarized with thresholds, 12 lanes, PE = 3, NF = 2
    Spec("p_xnor", "binary", "binary", T(2, 2), 24, 6, 12, 3, threshold=True, dot_stage=1),
    # one lane: only the products' register
    Spec("p_one", T(5, 1), ("khot", 1), T(6, 3), 4, 2, 1, 2, None, T(6, 3, True, "AP_RND_ZERO", "AP_SAT_SYM"),
         T(4, 2), dot_stage=3),
    # fully parallel (SF = NF = 1), binarized inputs and K-hot weights
    Spec("p_full", "binary", ("khot", 2), T(5, 2), 6, 4, 6, 4, None, None, T(6, 4, False, "AP_TRN", "AP_SAT"),
         dot_stage=2),
    # convolutions: a whole padded 3x3 window of 4 binarized channels a clock, thresholded
    Spec("p_xnor_pad", "binary", "binary", T(2, 2), 0, 4, 36, 2, threshold=True,
         conv=(4, 5, 5, (3, 3), (1, 1), (1, 1)), dot_stage=2),
    # binarized inputs, K-hot weights, padded, 3 taps of 2 channels, NF = 1
    Spec("p_binx_khot", "binary", ("khot", 2), T(5, 2), 0, 2, 6, 2, T(4, 2), conv=(2, 4, 5, (3, 3), (1, 1), (1, 1)),
         dot_stage=1),
    # multipliers, a kernel row of 2 channels a beat, strided and padded, NF = 2
    Spec("p_conv_mul", T(6, 2), "mul", T(5, 2), 0, 4, 6, 2, T(7, 3), None, T(8, 3, True, "AP_RND_CONV", "AP_SAT"),
         conv=(2, 6, 5, (3, 3), (2, 1), (1, 1)), dot_stage=2),
]


@pytest.fixture(scope="module")
def cases():
    return [make_case(spec, SAMPLES, seed) for seed, spec in enumerate(SPECS, start=40)]


def test_the_registers_follow_the_tree_height():
    assert [dot_registers(simd, stage) for simd, stage in
            [(1, 0), (72, 0), (1, 3), (2, 1), (5, 1), (7, 2), (36, 2), (72, 8), (72, 3)]] == [0, 0, 0, 1, 3, 2, 3, 1, 3]


@pytest.mark.parametrize("pause", [0.3, 0.6])
def test_pipelined_layers_equal_ir_execution_under_backpressure(cases, tmp_path, pause):
    assert all(case.layer.mvu.dot_registers > 0 for case in cases if case.layer.mvu.simd > 1)
    mismatches = mismatched_layers(cases, run_bank(cases, tmp_path, pause=pause, seed=int(pause * 10)))
    assert not mismatches, f"RTL differs from the IR's execution at pause {pause}: {mismatches}"


def test_pipelining_keeps_the_interval_and_adds_its_registers_to_the_latency(cases, tmp_path):
    """Each layer beside its unpipelined twin: the same clocks per sample, measured equal
    to the estimate, and a latency exactly `dot_registers` clocks longer."""
    twins = [make_case(Spec(**{**case.spec.__dict__, "name": f"{case.spec.name}_flat", "dot_stage": 0}), SAMPLES,
                       seed) for seed, case in enumerate(cases, start=40)]
    run = run_bank([*cases, *twins], tmp_path, pause=0.0)

    def timing(case):
        name = case.layer.name
        return stream_timing(run.input_cycles[f"{name}_s_axis"], run.output_cycles[f"{name}_m_axis"], SAMPLES)

    for case, twin in zip(cases, twins):
        piped, flat = timing(case), timing(twin)
        assert piped.interval == flat.interval == case.layer.cycles_per_sample, case.layer.name
        assert piped.latency == flat.latency + case.layer.mvu.dot_registers, case.layer.name
