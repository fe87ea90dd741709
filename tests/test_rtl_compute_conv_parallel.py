"""Convolutions whose window beat holds several kernel positions (taps), up to a whole
window per clock, against the IR's execution with ==, under random back-pressure; and
their clocks per image, equal to `ComputeLayer.cycles_per_sample` (the estimate the
folding rule uses): max(out_h * out_w * SF * NF, the input's beats).

SIMD = SIMD_C * TAPS (`fxhls.rtl.windows.window_lanes`). All layers sit in one
Verilator build and stream several images back to back.
"""

from __future__ import annotations

import pytest

from fxhls.fixed import FixedType as T
from fxhls.rtl.windows import line_buffer_rows
from fxhls.sim.cosim import stream_timing
from rtl_compute_cases import Spec, make_case, mismatched_layers, run_bank

SAMPLES = 3
# conv = (channels, height, width, kernel, strides, pads)
SPECS = [
    # a whole 3x3 window of 2 channels per clock (SIMD 18), every output at once: padded
    Spec("w_full_mul", T(6, 2), "mul", T(5, 2), 0, 4, 18, 4, T(7, 3), None, T(8, 3, True, "AP_RND_CONV", "AP_SAT"),
         conv=(2, 6, 5, (3, 3), (1, 1), (1, 1))),
    # a kernel row (3 taps) of 4 channels a beat, strided and padded, K-hot weights
    Spec("w_row_khot", T(5, 2), ("khot", 2), T(6, 2), 0, 4, 12, 2, conv=(4, 7, 6, (3, 3), (2, 2), (1, 1))),
    # 3 taps of 2 of the 4 channels a beat (SIMD 6: SIMD_C = gcd(6, 4) = 2), unequal strides and pads
    Spec("w_mixed", T(5, 3, False), "mul", T(4, 1), 0, 3, 6, 1, T(6, 2), None, T(7, 4, True, "AP_RND", "AP_SAT_SYM"),
         conv=(4, 5, 6, (3, 3), (1, 2), (1, 0))),
    # binarized, padded, thresholded, a whole window a clock: a padding flag per tap
    Spec("w_xnor_full", "binary", "binary", T(2, 2), 0, 4, 36, 2, threshold=True, conv=(4, 5, 5, (3, 3), (1, 1), (1, 1))),
    # binarized inputs with K-hot weights, padded, 3 taps of 2 channels
    Spec("w_binx_khot", "binary", ("khot", 2), T(5, 2), 0, 2, 6, 2, T(4, 2), conv=(2, 4, 5, (3, 3), (1, 1), (1, 1))),
    # 1x1: a pixel of 3 channels a clock, every output at once, strided and padded
    Spec("w_pointwise", T(4, 4), ("khot", 1), T(4, 1), 0, 3, 3, 3, conv=(3, 5, 4, (1, 1), (2, 1), (1, 1))),
    # a 2x3 kernel over one channel, all 6 taps a beat, strides (2, 1), pads (1, 2)
    Spec("w_rect", T(5, 2), "mul", T(4, 1), 0, 2, 6, 2, T(6, 2), conv=(1, 6, 5, (2, 3), (2, 1), (1, 2))),
    # a whole 3x3 window, stride 2 and no padding, one output a clock (NF = 4)
    Spec("w_stride_fold", T(4, 1), "mul", T(3, 1), 0, 4, 18, 1, conv=(2, 7, 7, (3, 3), (2, 2), (0, 0))),
]


@pytest.fixture(scope="module")
def cases():
    return [make_case(spec, SAMPLES, seed) for seed, spec in enumerate(SPECS, start=20)]


def test_window_parallel_convolutions_equal_ir_execution_under_backpressure(cases, tmp_path):
    taps = {case.layer.name: case.layer.window.taps for case in cases}
    assert taps == {"w_full_mul": 9, "w_row_khot": 3, "w_mixed": 3, "w_xnor_full": 9, "w_binx_khot": 3,
                    "w_pointwise": 1, "w_rect": 6, "w_stride_fold": 9}
    for pause in (0.3, 0.6):
        mismatches = mismatched_layers(cases, run_bank(cases, tmp_path, pause=pause, seed=int(pause * 10)))
        assert not mismatches, f"RTL differs from the IR's execution at pause {pause}: {mismatches}"


def test_window_parallel_convolutions_take_their_estimated_clocks(cases, tmp_path):
    """The co-simulated interval equals the estimate exactly; a whole window a clock with
    one fold is bound by the input's beats (one pixel a clock)."""
    run = run_bank(cases, tmp_path, pause=0.0)
    for case in cases:
        timing = stream_timing(run.input_cycles[f"{case.layer.name}_s_axis"],
                               run.output_cycles[f"{case.layer.name}_m_axis"], SAMPLES)
        assert timing.interval == case.layer.cycles_per_sample, case.layer.name
    full = next(case.layer for case in cases if case.layer.name == "w_full_mul")
    assert full.mvu.sf * full.mvu.nf == 1 and full.cycles_per_sample == 6 * 5


def test_line_buffer_rows_let_the_next_rows_arrive_while_windows_are_read():
    assert line_buffer_rows(28, 3, 1, 1) == 4  # the MNIST convolutions: 3 rows read, 1 arriving
    assert line_buffer_rows(9, 3, 3, 0) == 8  # 3 rows read while the next 3 arrive
    assert line_buffer_rows(7, 3, 1, 0) == 8  # the last windows' 3 rows, and the next image's first 3
    assert line_buffer_rows(5, 1, 2, 0) == 4
