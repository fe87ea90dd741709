"""Pooling modules (fxhls_pool: window + reduce; fxhls_reduce alone as the global average)
against the IR's MaxPool, AveragePool and GlobalAveragePool `execute`, with ==, under
random back-pressure. One Verilator build for all.
"""

from __future__ import annotations

import functools

import numpy as np

from fxhls.deploy.packing import to_stream_order
from fxhls.fixed import FixedType, reciprocal
from fxhls.rtl.stages import reciprocal_parameters, type_parameters
from fxhls.sim.cosim import simulate_streams
from hls_layer_graphs import random_values
from rtl_bank import Instance, beat_values, beats, build_bank, execute_op

IMAGES = 3
T = FixedType.parse


def _pool_case(name, kind, channels, simd, x_type, size, kernel, stride, out_type, recip_type, gen):
    height, width = size
    x = random_values(x_type, (IMAGES, channels, height, width), gen)
    parameters = {"KIND": kind, "C": channels, "SIMD": simd, **type_parameters("X", x_type), "H": height, "W": width,
                  "KH": kernel, "KW": kernel, "SH": stride, "SW": stride, "ROWS": 1 << kernel.bit_length(),
                  **type_parameters("OUT", out_type, True)}
    attrs = {"kernel_shape": (kernel, kernel), "strides": (stride, stride)}
    if kind == "max":
        expected = execute_op("MaxPool", [x], out_type, **attrs)
    else:
        parameters |= reciprocal_parameters(reciprocal(kernel * kernel, recip_type))
        expected = execute_op("AveragePool", [x], out_type, reciprocal_type=str(recip_type), **attrs)
    instance = Instance(name, "fxhls_pool", parameters, {"s_axis": simd * x_type.width, "m_axis": simd * out_type.width})
    return instance, x, x_type, expected, out_type, simd


def _global_case(name, channels, simd, x_type, size, out_type, recip_type, gen):
    height, width = size
    x = random_values(x_type, (IMAGES, channels, height, width), gen)
    parameters = {"KIND": "avg", "SIMD": simd, "GROUPS": channels // simd, "COUNT": height * width,
                  **type_parameters("X", x_type), **reciprocal_parameters(reciprocal(height * width, recip_type)),
                  **type_parameters("OUT", out_type, True)}
    expected = execute_op("GlobalAveragePool", [x], out_type, reciprocal_type=str(recip_type))
    instance = Instance(name, "fxhls_reduce", parameters, {"s_axis": simd * x_type.width, "m_axis": simd * out_type.width})
    return instance, x, x_type, expected, out_type, simd


@functools.cache
def _cases():
    gen = np.random.default_rng(61)
    return [
        _pool_case("max_a", "max", 4, 2, T("ap_fixed<8,3>"), (6, 6), 2, 2, T("ap_fixed<8,3>"), None, gen),
        _pool_case("max_b", "max", 2, 1, T("ap_ufixed<6,2>"), (5, 7), 3, 1, T("ap_ufixed<5,2,AP_RND,AP_SAT>"), None, gen),
        _pool_case("avg_a", "avg", 3, 3, T("ap_fixed<8,4>"), (4, 6), 2, 2, T("ap_fixed<9,4,AP_RND_CONV,AP_SAT>"),
                   T("ap_ufixed<8,0>"), gen),
        _pool_case("avg_b", "avg", 2, 1, T("ap_ufixed<8,4>"), (6, 6), 3, 3, T("ap_ufixed<8,4,AP_RND,AP_SAT>"),
                   T("ap_ufixed<10,0>"), gen),
        _global_case("gap_a", 6, 2, T("ap_fixed<8,3>"), (4, 5), T("ap_fixed<10,4,AP_RND,AP_SAT>"), T("ap_ufixed<12,0>"), gen),
        _global_case("gap_b", 4, 4, T("ap_fixed<6,2>"), (4, 4), T("ap_fixed<8,2>"), T("ap_ufixed<8,0>"), gen),
    ]


def test_pooling_modules_equal_the_ir_under_back_pressure(tmp_path):
    cases = _cases()
    build_dir = build_bank(tmp_path, "pool_bank", [case[0] for case in cases],
                           ["fxhls_cast", "fxhls_stage", "fxhls_window", "fxhls_scale_const", "fxhls_reduce", "fxhls_pool"])
    inputs, outputs = {}, {}
    for instance, x, x_type, expected, out_type, simd in cases:
        inputs[instance.prefix("s_axis")] = beats(to_stream_order(x), x_type, simd)
        outputs[instance.prefix("m_axis")] = expected.size // simd
    run = simulate_streams(build_dir, "pool_bank", inputs, outputs, pause=0.3, seed=5)

    mismatches = {}
    for instance, x, x_type, expected, out_type, simd in cases:
        got = beat_values(run.outputs[instance.prefix("m_axis")], out_type, simd)
        want = to_stream_order(expected).flatten()
        assert got.shape == want.shape, instance.name
        mismatches[instance.name] = int((got != want).sum())
    assert sum(mismatches.values()) == 0, mismatches
