"""Convolutions as fxhls_window + fxhls_mvu against the IR's execution, with ==, under
random back-pressure; their clocks per image against `ComputeLayer.cycles_per_sample`;
and the window's column order where a narrowed accumulator makes the order matter.

All layers sit in one Verilator build and stream several images back to back, so the
line buffer carries rows of the next image while it reads the last windows of one.
"""

from __future__ import annotations

import numpy as np
import pytest

from fxhls.fixed import FixedType as T
from fxhls.fixed import dot_with_bias
from fxhls.ir import execute
from fxhls.sim.cosim import stream_timing
from rtl_compute_cases import Spec, make_case, mismatched_layers, run_bank

SAMPLES = 3
# conv = (channels, height, width, kernel, strides, pads)
SPECS = [
    # 3x3, padding 1, pixel-major columns, 2 channels a beat, PE = 2, rounding saturating cast
    Spec("c_mul", T(6, 2), "mul", T(5, 2), 0, 4, 2, 2, T(7, 3), None, T(8, 3, True, "AP_RND_CONV", "AP_SAT"),
         conv=(2, 5, 4, (3, 3), (1, 1), (1, 1))),
    # a narrowed accumulator that rounds and saturates: channel-major columns, SIMD = 1, stride 2
    Spec("c_khot_step", T(5, 2), ("khot", 2), T(6, 2), 0, 2, 1, 1, T(5, 2), T(7, 3, True, "AP_RND_INF", "AP_SAT"),
         conv=(2, 6, 5, (3, 3), (2, 2), (1, 1))),
    # binarized, padded (the padding flag: a -1/+1 bit has no zero), thresholded
    Spec("c_xnor_thr", "binary", "binary", T(2, 2), 0, 4, 2, 2, threshold=True, conv=(4, 4, 4, (3, 3), (1, 1), (1, 1))),
    # 1x1, stride 2: bound by the input's beats, two beats a pixel
    Spec("c_pointwise", T(4, 4), ("khot", 1), T(4, 1), 0, 2, 2, 1, conv=(4, 5, 6, (1, 1), (2, 2), (0, 0))),
    # a 2x3 kernel, strides (2, 1), pads (1, 2), unsigned inputs
    Spec("c_rect", T(5, 3, False), "mul", T(4, 1), 0, 3, 3, 3, T(6, 2), None, T(7, 4, True, "AP_RND", "AP_SAT_SYM"),
         conv=(3, 5, 5, (2, 3), (2, 1), (1, 2))),
    # a one-pixel-wide image, one beat a pixel: the line buffer's column and channel fields vanish
    Spec("c_column", T(6, 3), "mul", T(3, 1), 0, 2, 4, 2, None, None, T(5, 2, True, "AP_RND_MIN_INF", "AP_SAT_ZERO"),
         conv=(4, 3, 1, (2, 1), (1, 1), (1, 0))),
    # padded by the kernel's size: whole windows in the padding, read only once the image starts
    Spec("c_wide_pad", T(5, 2), "mul", T(4, 1), 0, 2, 2, 2, conv=(2, 3, 4, (2, 2), (1, 2), (2, 2))),
    # binarized inputs with K-hot weights, padded
    Spec("c_binx_khot", "binary", ("khot", 2), T(5, 2), 0, 2, 2, 2, T(4, 2), conv=(2, 4, 3, (3, 3), (1, 1), (1, 1))),
]


@pytest.fixture(scope="module")
def cases():
    return [make_case(spec, SAMPLES, seed) for seed, spec in enumerate(SPECS)]


def test_convolutions_equal_ir_execution_under_backpressure(cases, tmp_path):
    mismatches = mismatched_layers(cases, run_bank(cases, tmp_path, pause=0.3))
    assert not mismatches, f"RTL differs from the IR's execution: {mismatches}"


def test_convolutions_take_their_clocks_per_image(cases, tmp_path):
    """Steady state: out_h * out_w * SF * NF clocks an image, or the input's beats when
    those are more (c_pointwise)."""
    run = run_bank(cases, tmp_path, pause=0.0)
    for case in cases:
        timing = stream_timing(run.input_cycles[f"{case.layer.name}_s_axis"],
                               run.output_cycles[f"{case.layer.name}_m_axis"], SAMPLES)
        assert timing.interval == case.layer.cycles_per_sample, case.layer.name
    pointwise = next(case.layer for case in cases if case.layer.name == "c_pointwise")
    assert pointwise.cycles_per_sample == 5 * 6 * 2 > 3 * 3 * pointwise.mvu.cycles_per_vector


def test_the_stepwise_case_depends_on_the_column_order(cases):
    """In pixel-major order (what the window gives without CHANNEL_MAJOR) the narrowed
    accumulator of c_khot_step gives other results than the IR's (channel, row, column)
    order, so the test above checks that the window feeds the IR's order."""
    case = next(case for case in cases if case.layer.name == "c_khot_step")
    assert case.layer.window.channel_major and case.layer.mvu.simd == 1
    conv = next(node for node in case.graph.nodes if node.op == "Conv")
    weights, bias = (case.graph.tensor(name).data for name in conv.inputs[1:])
    channels, kh, kw = weights.shape[1:]
    (ph, pw), (sh, sw) = conv.attrs["pads"], conv.attrs["strides"]
    padded = np.pad(case.x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    patches = windows.transpose(0, 2, 3, 1, 4, 5).reshape(*windows.shape[:1], -1, channels * kh * kw)
    pixel_major = np.arange(channels * kh * kw).reshape(channels, kh, kw).transpose(1, 2, 0).flatten()
    rows = weights.reshape(len(weights), -1)
    reordered = dot_with_bias(patches[..., pixel_major], rows[:, pixel_major], bias, conv.attrs["acc_type"])
    in_order = dot_with_bias(patches, rows, bias, conv.attrs["acc_type"])
    assert (reordered != in_order).any()
    layer_output = execute(case.graph, case.x)[1]
    assert np.array_equal(in_order.transpose(0, 2, 1).reshape(layer_output.shape), layer_output)
