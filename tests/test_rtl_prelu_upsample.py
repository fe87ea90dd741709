"""fxhls_prelu and fxhls_upsample (templates/rtl) against the IR ops' `execute`, with ==,
under random back-pressure, in one Verilator build: PRelu by multiplier and by K-hot
shift-add, on signed and unsigned inputs, with rounding and saturating output casts;
nearest upsampling of pixels spread over several beats, by 2x2 and 3x1; and at full rate
each module passes one output beat per clock."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from fxhls.fixed import FixedType
from fxhls.ir.passes.khot import khot_terms
from fxhls.rtl.stages import type_parameters
from fxhls.rtl.top_parameters import scale_parameters
from fxhls.sim.cosim import simulate_streams
from hls_layer_graphs import random_values
from rtl_bank import Instance, beats, build_bank, execute_op, output_mismatches

T = FixedType.parse
PIXELS = 24


def _prelu_case(name, channels, lanes, x_type, slope_type, khot, out_type, gen, **overrides) -> dict:
    x = random_values(x_type, (PIXELS, channels), gen)
    if khot:  # sums of two signed powers of two on slope_type's grid
        signs = gen.integers(-1, 1, size=(channels, 2), endpoint=True)
        exponents = gen.integers(-slope_type.frac_bits, 0, size=(channels, 2), endpoint=True)
        slope = (signs * np.ldexp(1.0, exponents)).sum(-1)
        terms = khot_terms(slope, slope_type.frac_bits, 2, "slope")
    else:
        slope, terms = random_values(slope_type, (channels,), gen), None
    parameters = {"C": channels, "LANES": lanes, **type_parameters("X", x_type),
                  **type_parameters("OUT", out_type, True), **scale_parameters(slope, slope_type, terms), **overrides}
    instance = Instance(name, "fxhls_prelu", parameters,
                        {"s_axis": lanes * x_type.width, "m_axis": lanes * out_type.width})
    expected = execute_op("PRelu", [x, slope], out_type)
    assert (x < 0).any()  # the negative side is taken
    return {"instance": instance, "inputs": {"s_axis": beats(x, x_type, lanes)},
            "outputs": {"m_axis": (expected, out_type, lanes)}, "beats": PIXELS * channels // lanes}


def _upsample_case(name, channels, lanes, height, width, scales, t, gen) -> dict:
    x = random_values(t, (1, channels, height, width), gen)
    parameters = {"C": channels, "LANES": lanes, "W": width, "SH": scales[0], "SW": scales[1], "X_W": t.width}
    instance = Instance(name, "fxhls_upsample", parameters, {"s_axis": lanes * t.width, "m_axis": lanes * t.width})
    expected = execute_op("Upsample", [x], scales=list(scales))[0].transpose(1, 2, 0)  # pixel by pixel
    return {"instance": instance, "inputs": {"s_axis": beats(x[0].transpose(1, 2, 0), t, lanes)},
            "outputs": {"m_axis": (expected, t, lanes)}, "beats": expected.size // lanes}


@functools.cache
def _cases() -> list[dict]:
    gen = np.random.default_rng(11)
    return [
        _prelu_case("prelu_mul", 6, 3, T("ap_fixed<8,3>"), T("ap_fixed<8,1>"), False,
                    T("ap_fixed<9,4,AP_RND,AP_SAT>"), gen),
        _prelu_case("prelu_khot", 4, 2, T("ap_fixed<10,4>"), T("ap_fixed<6,1>"), True,
                    T("ap_fixed<8,4,AP_RND_CONV,AP_SAT_SYM>"), gen),
        _prelu_case("prelu_khot_unpipelined", 4, 4, T("ap_fixed<10,4>"), T("ap_fixed<6,1>"), True,
                    T("ap_fixed<8,4,AP_RND_CONV,AP_SAT_SYM>"), gen, PIPELINE=0),
        _prelu_case("prelu_wide", 2, 2, T("ap_fixed<12,6>"), T("ap_ufixed<10,0>"), False, T("ap_fixed<16,6>"), gen),
        _upsample_case("up_2x2", 6, 2, 3, 4, (2, 2), T("ap_fixed<7,3>"), gen),
        _upsample_case("up_3x1", 2, 2, 4, 3, (3, 1), T("ap_ufixed<5,5>"), gen),
    ]


def _run(tmp_path, pause: float):
    cases = _cases()
    build_dir = build_bank(tmp_path, "prelu_upsample_bank", [case["instance"] for case in cases],
                           ["fxhls_prelu", "fxhls_upsample"])
    inputs = {case["instance"].prefix(port): stream for case in cases for port, stream in case["inputs"].items()}
    outputs = {case["instance"].prefix(port): case["beats"] for case in cases for port in case["outputs"]}
    return cases, simulate_streams(build_dir, "prelu_upsample_bank", inputs, outputs, pause=pause, seed=5)


@pytest.mark.parametrize("pause", [0.3])
def test_modules_equal_the_ir_under_back_pressure(tmp_path, pause):
    cases, run = _run(tmp_path, pause)
    mismatches = output_mismatches(cases, run)
    assert sum(mismatches.values()) == 0, mismatches


def test_modules_pass_one_beat_per_clock(tmp_path):
    cases, run = _run(tmp_path, 0.0)
    spans = {prefix: cycles[-1] - cycles[0] + 1 for prefix, cycles in run.output_cycles.items()}
    assert spans == {case["instance"].prefix("m_axis"): case["beats"] for case in cases}
