"""The dataflow plan (forks, FIFO depths, shared streams) and the parallelism choice
(reuse within the DSP budget, balanced to the slowest stage), without compiling."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from fxhls.board import load_board
from fxhls.deploy.interface import stream_interface
from fxhls.hls.dataflow import plan_dataflow
from fxhls.hls.naming import safe_graph
from fxhls.hls.parallelism import ParallelismOptions, choose_reuse, dsp_per_multiplier, folding, resolve_reuse
from fxhls.hls.writer import write_hls_project
from fxhls.ir.passes import lower_for_hardware, split_host_edges
from fxhls.onnx import load_onnx
from fxhls.rtl.folding import RtlParallelism
from fxhls.rtl.writer import write_rtl
from hls_build_helpers import GraphBuilder

BOARD = load_board("ultra96v2")


def residual_block(width=8):
    """cast image -> Conv (3x3, pad 1) -> Add with the image itself."""
    b = GraphBuilder((4, 6, width), "ap_fixed<8,3>")
    image = b.last
    conv = b.add("Conv", [image, b.constant("ap_fixed<8,1>", (4, 4, 3, 3)), b.constant("ap_fixed<8,2>", (4,))],
                 {"strides": [1, 1], "pads": [1, 1], "out_type": "ap_fixed<10,4>"}, name="conv")
    b.add("Add", [conv, image], {"out_type": "ap_fixed<10,4>"}, name="add")
    return b.graph()


def mlp(widths=(64, 32, 10)):
    b = GraphBuilder((widths[0],), "ap_fixed<8,3>")
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        b.add("Gemm", [b.last, b.constant("ap_fixed<8,1>", (n_out, n_in)), b.constant("ap_fixed<8,2>", (n_out,))],
              {"out_type": "ap_fixed<12,4>"}, name=f"dense{i}")
    return b.graph()


def _plan(graph):
    return plan_dataflow(safe_graph(graph)[0])


@pytest.mark.parametrize("width", [5, 8, 16])
def test_the_shortcut_fifo_holds_the_convolutions_lag(width):
    plan = _plan(residual_block(width))
    fork = next(stage for stage in plan.stages if stage.node is None)
    to_conv, to_add = fork.outputs
    conv_lag = (3 - 1 - 1) * width + (3 - 1 - 1) + 1  # pixels read before its first output
    assert plan.variables[to_add][1] == conv_lag + 2
    assert plan.variables[to_conv][1] == 2  # the Add reads the shortcut directly: no lag


def test_a_fifo_never_exceeds_the_image():
    """A 5x5 convolution (padding 2) of a 3x3 image reads all 9 pixels before its first
    output: the shortcut holds the whole image, no more."""
    b = GraphBuilder((2, 3, 3), "ap_fixed<8,3>")
    image = b.last
    conv = b.add("Conv", [image, b.constant("ap_fixed<8,1>", (2, 2, 5, 5))],
                 {"strides": [1, 1], "pads": [2, 2], "out_type": "ap_fixed<10,4>"})
    b.add("Add", [conv, image])
    plan = _plan(b.graph())
    fork = next(stage for stage in plan.stages if stage.node is None)
    assert plan.variables[fork.outputs[1]][1] == 9


def test_streams_are_shared_where_nothing_moves():
    b = GraphBuilder((4, 1, 1), "ap_fixed<8,3>")
    x = b.add("Reshape", [b.add("Flatten", [b.last])], {"shape": [4, 1, 1]})
    b.add("Relu", [x])
    plan = _plan(b.graph())
    assert [stage.node.op for stage in plan.stages] == ["Relu"]
    assert plan.stages[0].inputs == [plan.input_variable]


def test_default_reuse_balances_the_pipeline_within_the_board():
    plan = _plan(mlp())
    reuse = choose_reuse(plan, "DSP48E2", 360, {})
    # the input converter takes 64 clocks: a Gemm reading one beat may take up to 63 clocks of compute
    assert reuse == {"dense0": 63, "dense1": 63}
    costs = [folding(plan, stage, "DSP48E2").cost(reuse[stage.name]) for stage in plan.stages]
    assert [cost.multipliers for cost in costs] == [math.ceil(64 * 32 / 63), math.ceil(32 * 10 / 63)]
    assert max(cost.cycles for cost in costs) <= 64


@pytest.mark.parametrize("budget", [0, 3, 10, 40, 1000])
def test_the_dsp_budget_is_kept_when_it_can_be(budget):
    plan = _plan(residual_block(16))
    reuse = choose_reuse(plan, "DSP48E2", budget, {})
    dsp = sum(folding(plan, stage, "DSP48E2").cost(reuse.get(stage.name, 1)).dsp
              for stage in plan.stages if stage.node is not None)
    least = sum(folding(plan, stage, "DSP48E2").cost(folding(plan, stage, "DSP48E2").max_reuse).dsp
                for stage in plan.stages if stage.node is not None)
    assert dsp <= max(budget, least)
    if budget >= 144:  # 4 x 36 products: the DSPs bind no folding; the input converter's 384 values
        assert reuse["conv"] == 384 // (8 * 18)  # set the pace: the conv takes 8 x 18 padded pixels per reuse


def test_user_reuse_is_kept_and_checked():
    graph = mlp()
    plan = _plan(graph)
    originals = {stage.name: stage.name for stage in plan.stages}
    assert resolve_reuse(plan, BOARD, originals, ParallelismOptions({"dense0": 5}))["dense0"] == 5
    assert set(resolve_reuse(plan, BOARD, originals, ParallelismOptions({"*": 2})).values()) == {2}
    with pytest.raises(ValueError, match="no layer 'dense9'"):
        resolve_reuse(plan, BOARD, originals, ParallelismOptions({"dense9": 2}))
    with pytest.raises(ValueError, match="DSP budget must be a non-negative integer"):
        resolve_reuse(plan, BOARD, originals, ParallelismOptions(dsp_budget=-1))
    most = {stage.name: folding(plan, stage, "DSP48E2").max_reuse for stage in plan.stages if stage.node is not None}
    huge = resolve_reuse(plan, BOARD, originals, ParallelismOptions({"*": 10**24}))
    assert {name: huge[name] for name in ("dense0", "dense1")} == {"dense0": most["dense0"], "dense1": most["dense1"]}
    with pytest.raises(ValueError, match=f"^layer 'dense0': a reuse factor is a whole number from 1 to its "
                                         f"{most['dense0']} multiplications per input vector, got {10**24}$"):
        resolve_reuse(plan, BOARD, originals, ParallelismOptions({"dense0": 10**24}))


def test_dsp_slices_per_multiplier():
    assert dsp_per_multiplier(8, 8, "DSP48E2") == 1
    assert dsp_per_multiplier(27, 18, "DSP48E2") == 1 and dsp_per_multiplier(26, 18, "DSP48E1") == 2
    assert dsp_per_multiplier(32, 32, "DSP48E2") == 4


def test_a_target_fps_folds_to_the_least_parallel_design_that_reaches_it():
    graph = mlp()
    plan = _plan(graph)
    originals = {stage.name: stage.name for stage in plan.stages}
    models = {stage.name: folding(plan, stage, "DSP48E2") for stage in plan.stages if stage.node is not None}
    for fps in (5e5, 1e6, 3e6):
        reuse = resolve_reuse(plan, BOARD, originals, ParallelismOptions(target_fps=fps), 250)
        clocks = max(models[name].cost(r).cycles for name, r in reuse.items())
        assert 250e6 / clocks >= fps
        slower = {name: r + 1 for name, r in reuse.items() if r < models[name].max_reuse}
        assert all(models[name].cost(r).cycles > 250e6 // fps for name, r in slower.items())


def test_a_target_fps_out_of_reach_says_the_best_and_why():
    graph = mlp()
    plan = _plan(graph)
    originals = {stage.name: stage.name for stage in plan.stages}
    with pytest.raises(ValueError, match=r"^a target of .* is out of reach: the best is .* FPS \(\d+ clocks per sample\), "
                                         r"limited by .* \(\d+ clocks per sample at the most parallel\)$"):
        resolve_reuse(plan, BOARD, originals, ParallelismOptions(target_fps=1e12), 250)
    with pytest.raises(ValueError, match=r"needs \d+ DSP slices, the budget is 2: the best within them is .* FPS"):
        resolve_reuse(plan, BOARD, originals, ParallelismOptions(dsp_budget=2, target_fps=3e6), 250)
    with pytest.raises(ValueError, match="target FPS must be a positive number"):
        resolve_reuse(plan, BOARD, originals, ParallelismOptions(target_fps=float("inf")), 250)


MNIST = Path(__file__).resolve().parents[1] / "examples" / "models" / "mnist_khot_cnn.onnx"


@pytest.mark.parametrize("fps", [35_000, 100_000, 150_000])
def test_khot_layers_take_the_rtls_fold_and_clocks_at_a_target_fps(fps, tmp_path):
    """The bundled MNIST CNN (K-hot Conv, Conv, Gemm) at one target FPS: each compute
    layer of the HLS backend takes the RTL's SIMD x PE, and its estimated clocks per sample
    equal the RTL's estimate (the interval its co-simulation measures,
    tests/test_rtl_top_intervals.py); so do the two designs' intervals."""
    graph = load_onnx(str(MNIST))
    split_host_edges(graph)
    graph = lower_for_hardware(graph)
    design = stream_interface(graph, "mnist", "ultra96v2", 250)
    hls = write_hls_project(graph, design, tmp_path / "hls", ParallelismOptions(target_fps=fps))
    (tmp_path / "rtl").mkdir()
    rtl = write_rtl(graph, design, tmp_path / "rtl", RtlParallelism(target_fps=fps))
    rows = {row["onnx_node"]: row for row in csv.DictReader((tmp_path / "hls" / "report" / "layers.csv").open())}
    stages = {row["node"]: row for row in json.loads((tmp_path / "rtl" / "rtl" / "stages.json").read_text())["stages"]}
    for node in ("conv1/Conv", "conv2/Conv", "fc/Gemm"):
        simd, pe = (int(v) for v in rows[node]["simd_pe"].split(" x "))
        assert stages[node]["folding"] == f"SIMD={simd}, PE={pe}"
        assert int(rows[node]["cycles"]) == stages[node]["clocks"]
    assert hls.summary["interval"] == rtl.cycles_per_sample <= 250e6 // fps
