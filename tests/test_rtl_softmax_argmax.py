"""fxhls_softmax and fxhls_argmax (templates/rtl) against the IR ops' `execute`, with ==, under
random back-pressure, in one Verilator build: classes not a power of two, one and two
classes, many beats, ties on the largest value (ArgMax: the lowest index; Softmax: equal
outputs), signed and unsigned inputs; at full rate each passes one beat per clock; and
yosys finds no path longer than the LUT levels `fxhls report` says fit 250 MHz."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from fxhls.fixed import FixedType
from fxhls.ir import Node
from fxhls.ir.ops.argmax import ArgMax, index_type
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.ops.softmax import Softmax
from fxhls.rtl.layer_report import levels_that_fit, synthesize_instances
from fxhls.rtl.library import library_sources
from fxhls.rtl.top_parameters import softmax_parameters
from fxhls.sim.cosim import simulate_streams
from hls_layer_graphs import random_values
from rtl_bank import Instance, bank_verilog, beats, build_bank, output_mismatches

T = FixedType.parse
BEATS = 40


def _with_ties(x: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    """Every other row gets its largest value again at one or two other random positions."""
    x = x.copy()
    for row in x[::2]:
        row[gen.choice(len(row), size=min(2, len(row) - 1), replace=False)] = row.max()
    return x


def _softmax_case(name: str, classes: int, x_type: FixedType, out_type: FixedType, gen) -> dict:
    node = Node("Softmax", name, ["x"], ["y"], type_attrs(out_type))
    x = _with_ties(random_values(x_type, (BEATS, classes), gen), gen)
    parameters = {"C": classes, **softmax_parameters(node, x_type, classes)}
    instance = Instance(name, "fxhls_softmax", parameters,
                        {"s_axis": classes * x_type.width, "m_axis": classes * out_type.width})
    (expected,) = Softmax.execute(node, [x], [x_type])
    return {"instance": instance, "inputs": {"s_axis": beats(x, x_type, classes)},
            "outputs": {"m_axis": (expected, out_type, classes)}}


def _argmax_case(name: str, classes: int, x_type: FixedType, gen) -> dict:
    out_type = index_type(classes)
    x = _with_ties(random_values(x_type, (BEATS, classes), gen), gen)
    parameters = {"C": classes, "X_W": x_type.width, "X_SIGNED": int(x_type.signed), "OUT_W": out_type.width}
    instance = Instance(name, "fxhls_argmax", parameters, {"s_axis": classes * x_type.width, "m_axis": out_type.width})
    (expected,) = ArgMax.execute(Node("ArgMax", name, ["x"], ["y"], {}), [x])
    assert ((x == x.max(axis=1, keepdims=True)).sum(axis=1) > 1).sum() >= BEATS // 5 or classes == 1
    return {"instance": instance, "inputs": {"s_axis": beats(x, x_type, classes)},
            "outputs": {"m_axis": (expected, out_type, 1)}}


@functools.cache
def _cases() -> list[dict]:
    gen = np.random.default_rng(16)
    return [
        _softmax_case("softmax10", 10, T("ap_fixed<10,4>"), T("ap_fixed<10,4>"), gen),
        _softmax_case("softmax7", 7, T("ap_fixed<8,3,AP_RND,AP_SAT>"), T("ap_ufixed<8,1,AP_RND,AP_SAT>"), gen),
        _softmax_case("softmax3", 3, T("ap_ufixed<6,3>"), T("ap_fixed<9,2,AP_RND_CONV,AP_SAT>"), gen),
        _softmax_case("softmax1", 1, T("ap_fixed<6,3>"), T("ap_ufixed<6,1,AP_RND,AP_SAT>"), gen),
        _argmax_case("argmax10", 10, T("ap_fixed<6,3>"), gen),
        _argmax_case("argmax33", 33, T("ap_fixed<5,2>"), gen),
        _argmax_case("argmax5", 5, T("ap_ufixed<4,4>"), gen),
        _argmax_case("argmax2", 2, T("ap_fixed<3,3>"), gen),
    ]


def _run(tmp_path, pause: float, seed: int):
    cases = _cases()
    build_dir = build_bank(tmp_path, "softmax_argmax_bank", [case["instance"] for case in cases],
                           ["fxhls_softmax", "fxhls_argmax"])
    inputs = {case["instance"].prefix(port): stream for case in cases for port, stream in case["inputs"].items()}
    outputs = {case["instance"].prefix("m_axis"): BEATS for case in cases}
    return cases, simulate_streams(build_dir, "softmax_argmax_bank", inputs, outputs, pause=pause, seed=seed)


@pytest.mark.parametrize("pause, seed", [(0.3, 5), (0.7, 9)])
def test_modules_equal_the_ir_under_back_pressure(tmp_path, pause, seed):
    cases, run = _run(tmp_path, pause, seed)
    mismatches = output_mismatches(cases, run)
    assert sum(mismatches.values()) == 0, mismatches


def test_modules_pass_one_beat_per_clock(tmp_path):
    cases, run = _run(tmp_path, 0.0, 0)
    spans = {prefix: cycles[-1] - cycles[0] + 1 for prefix, cycles in run.output_cycles.items()}
    assert spans == {case["instance"].prefix("m_axis"): BEATS for case in cases}


def test_the_longest_paths_fit_250_mhz(tmp_path):
    """yosys synth_xilinx per instance, as `fxhls report` measures a stage: ten classes."""
    instances = [case["instance"] for case in _cases() if case["instance"].name in ("softmax10", "argmax10")]
    source = tmp_path / "levels.v"
    source.write_text(bank_verilog("levels", instances))
    numbers, _ = synthesize_instances([*library_sources("fxhls_softmax", "fxhls_argmax"), source], "levels")
    levels = {name: numbers[name].lut_levels for name in ("softmax10", "argmax10")}
    assert all(0 < level <= levels_that_fit(250, "xcup") for level in levels.values()), levels
