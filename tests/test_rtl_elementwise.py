"""The element-wise stream modules (templates/rtl) against fxhls.fixed and the IR ops'
`execute`, with ==, under random back-pressure; and at one beat per clock without it.

ReLU + cast, per-channel affine (multiplier and K-hot), residual add, and a fork whose
shortcut goes through a FIFO: all in one Verilator build.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from fxhls.fixed import FixedType
from fxhls.ir.passes.khot import khot_terms
from fxhls.rtl.stages import type_parameters
from fxhls.rtl.verilog import packed_codes, packed_literal
from fxhls.sim.cosim import simulate_streams
from hls_layer_graphs import random_values
from rtl_bank import Instance, beats, build_bank, codes, execute_op, output_mismatches

BEATS = 60
T = FixedType.parse


def _relu_case(name: str, lanes: int, x_type: FixedType, out_type: FixedType, gen: np.random.Generator) -> dict:
    x = random_values(x_type, (BEATS, lanes), gen)
    instance = Instance(name, "fxhls_relu", {"LANES": lanes, **type_parameters("X", x_type), **type_parameters("OUT", out_type, True)},
                        {"s_axis": lanes * x_type.width, "m_axis": lanes * out_type.width})
    expected = execute_op("Relu", [x], out_type)
    return {"instance": instance, "inputs": {"s_axis": beats(x, x_type, lanes)}, "outputs": {"m_axis": (expected, out_type, lanes)}}


def _affine_case(name: str, channels: int, lanes: int, x_type: FixedType, kind, bias_type: FixedType,
                 out_type: FixedType, gen: np.random.Generator, pipeline: int = 0) -> dict:
    x = random_values(x_type, (BEATS * lanes // channels, channels), gen)
    bias = random_values(bias_type, (channels,), gen)
    parameters = {"C": channels, "LANES": lanes, **type_parameters("X", x_type), **type_parameters("BIAS", bias_type),
                  "BIASES": packed_literal(codes(bias, bias_type), bias_type.width), **type_parameters("OUT", out_type, True),
                  "PIPELINE": pipeline}
    if kind == "mul":
        scale_type = T("ap_fixed<6,2>")
        scale = random_values(scale_type, (channels,), gen)
        parameters |= {"KIND": "mul", **type_parameters("SCALE", scale_type),
                       "SCALES": packed_literal(codes(scale, scale_type), scale_type.width)}
    else:
        k, lowest, shift_w = kind[1], -3, 3
        signs = gen.integers(-1, 1, size=(channels, k), endpoint=True)
        exponents = gen.integers(lowest, 2, size=(channels, k), endpoint=True)
        scale = (signs * np.ldexp(1.0, exponents)).sum(-1)
        signs, exponents = khot_terms(scale, -lowest, k, "scale")
        terms = [(1 << (shift_w + 1)) | (int(s < 0) << shift_w) | (int(e) - lowest) if s else 0
                 for s, e in zip(signs.flatten().tolist(), exponents.flatten().tolist())]
        parameters |= {"KIND": "khot", "SCALE_FRAC": -lowest, "K": k, "SHIFT_W": shift_w,
                       "TERMS": f"{len(terms) * (shift_w + 2)}'h{packed_codes(terms, shift_w + 2):x}"}
    instance = Instance(name, "fxhls_affine", parameters, {"s_axis": lanes * x_type.width, "m_axis": lanes * out_type.width})
    expected = execute_op("Affine", [x, scale, bias], out_type)
    return {"instance": instance, "inputs": {"s_axis": beats(x, x_type, lanes)}, "outputs": {"m_axis": (expected, out_type, lanes)}}


def _add_case(name: str, lanes: int, a_type: FixedType, b_type: FixedType, out_type: FixedType, gen: np.random.Generator) -> dict:
    a, b = random_values(a_type, (BEATS, lanes), gen), random_values(b_type, (BEATS, lanes), gen)
    parameters = {"LANES": lanes, **type_parameters("A", a_type), **type_parameters("B", b_type), **type_parameters("OUT", out_type, True)}
    instance = Instance(name, "fxhls_add", parameters,
                        {"s0_axis": lanes * a_type.width, "s1_axis": lanes * b_type.width, "m_axis": lanes * out_type.width})
    expected = execute_op("Add", [a, b], out_type)
    return {"instance": instance, "inputs": {"s0_axis": beats(a, a_type, lanes), "s1_axis": beats(b, b_type, lanes)},
            "outputs": {"m_axis": (expected, out_type, lanes)}}


def _fork_cases(gen: np.random.Generator) -> list[dict]:
    t = T("ap_fixed<12,6>")
    x = random_values(t, (BEATS, 1), gen)
    fork = Instance("splitter", "fxhls_fork", {"W": 12}, {"s_axis": 12, "m0_axis": 12, "m1_axis": 12}, {"m1_axis": "shortcut"})
    fifo = Instance("fifo", "fxhls_fifo", {"W": 12, "DEPTH": 5}, {"s_axis": 12, "m_axis": 12}, {"s_axis": "shortcut"})
    return [
        {"instance": fork, "inputs": {"s_axis": beats(x, t, 1)}, "outputs": {"m0_axis": (x.flatten(), t, 1)}},
        {"instance": fifo, "inputs": {}, "outputs": {"m_axis": (x.flatten(), t, 1)}},
    ]


@functools.cache
def _cases() -> list[dict]:
    gen = np.random.default_rng(6)
    return [
        _relu_case("relu_a", 3, T("ap_fixed<8,3>"), T("ap_ufixed<6,2,AP_RND_CONV,AP_SAT>"), gen),
        _relu_case("relu_b", 2, T("ap_fixed<10,8>"), T("ap_fixed<4,4>"), gen),
        _affine_case("affine_mul", 6, 3, T("ap_fixed<8,4>"), "mul", T("ap_fixed<10,4>"), T("ap_fixed<8,5,AP_RND,AP_SAT>"), gen),
        _affine_case("affine_khot", 4, 2, T("ap_ufixed<6,3>"), ("khot", 2), T("ap_fixed<8,6>"),
                     T("ap_fixed<7,5,AP_RND_ZERO,AP_SAT_SYM>"), gen),
        _affine_case("affine_khot_pipelined", 6, 3, T("ap_fixed<7,2>"), ("khot", 2), T("ap_fixed<8,3>"),
                     T("ap_fixed<8,4,AP_RND_CONV,AP_SAT>"), gen, pipeline=1),
        _add_case("add", 4, T("ap_fixed<8,4>"), T("ap_ufixed<6,5>"), T("ap_fixed<8,5,AP_RND_INF,AP_SAT>"), gen),
        *_fork_cases(gen),
    ]


def _run(tmp_path, pause: float):
    cases = _cases()
    build_dir = build_bank(tmp_path, "elementwise_bank", [case["instance"] for case in cases],
                           ["fxhls_cast", "fxhls_stage", "fxhls_relu", "fxhls_dot_mul", "fxhls_dot_khot", "fxhls_affine",
                            "fxhls_add", "fxhls_fork", "fxhls_fifo"], wires={"shortcut": 12})
    inputs = {case["instance"].prefix(port): stream for case in cases for port, stream in case["inputs"].items()}
    outputs = {case["instance"].prefix(port): BEATS for case in cases for port in case["outputs"]}
    return cases, simulate_streams(build_dir, "elementwise_bank", inputs, outputs, pause=pause, seed=3)


@pytest.mark.parametrize("pause", [0.3])
def test_elementwise_modules_equal_the_ir_under_back_pressure(tmp_path, pause):
    cases, run = _run(tmp_path, pause)
    mismatches = output_mismatches(cases, run)
    assert sum(mismatches.values()) == 0, mismatches


def test_elementwise_modules_pass_one_beat_per_clock(tmp_path):
    _, run = _run(tmp_path, 0.0)
    spans = {prefix: cycles[-1] - cycles[0] + 1 for prefix, cycles in run.output_cycles.items()}
    assert spans == {prefix: BEATS for prefix in spans}
    first_out = {prefix: cycles[0] for prefix, cycles in run.output_cycles.items()}
    assert first_out["fifo_m_axis"] - first_out["splitter_m0_axis"] == 2  # the FIFO's two clocks
