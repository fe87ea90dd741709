"""`fxhls report`: yosys synth_xilinx counts, the board's capacity, the co-simulated timing.

The DSP claim: a per-channel affine whose scales vary from beat to beat multiplies a
variable (DSP slices), the same affine with K-hot scales shifts and adds (no DSP), and
the stream converters use none.
"""

from __future__ import annotations

import json

import pytest

from rtl_bank import Instance, bank_verilog

from fxhls.cli import main
from fxhls.deploy.interface import sealed
from fxhls.rtl.library import library_sources
from fxhls.rtl.report import read_timing, synthesize
from fxhls.rtl.stage_rows import read_stage_rows


def _affine(kind: str) -> Instance:
    """Four channels in two beats of two lanes: each lane's scale changes from beat to beat."""
    parameters = {"C": 4, "LANES": 2, "X_W": 8, "X_FRAC": 4, "KIND": kind, "SCALE_W": 8, "SCALE_FRAC": 4,
                  "SCALES": "32'h5a3c_81f7", "K": 2, "SHIFT_W": 3, "TERMS": "40'h8d_2e_f3_49_a6",
                  "BIAS_W": 8, "BIASES": "32'h0102_0304", "OUT_W": 8, "OUT_FRAC": 4}
    return Instance("affine", "fxhls_affine", parameters, {"s_axis": 16, "m_axis": 16})


def _converters() -> list[Instance]:
    """Their buffers place values at run-time positions: compared, never computed by a multiply."""
    return [
        Instance("unpack", "fxhls_unpack", {"VALUES": 10, "LANE": 16, "X_W": 12, "B": 5},
                 {"s_axis": 64, "m_axis": 60, "last_axis": 1}, with_last=("s_axis",)),
        Instance("pack", "fxhls_pack", {"VALUES": 10, "LANE": 16, "X_W": 12, "X_SIGNED": 1, "B": 5},
                 {"s_axis": 60, "last_axis": 1, "m_axis": 64}, inputs=("last_axis",), with_last=("m_axis",)),
    ]


def _bank(folder, name: str, instances: list[Instance]) -> list:
    source = folder / f"{name}.v"
    source.write_text(bank_verilog(name, instances))
    return [*library_sources(*{inst.module for inst in instances}), source]


def test_a_multiplier_on_a_variable_uses_dsps(tmp_path):
    used = synthesize(_bank(tmp_path, "affine_mul", [_affine("mul")]), "affine_mul")
    assert used.dsp > 0, used.cells


def test_fxhls_report_shows_the_board_and_the_cosimulated_timing(tmp_path, capsys):
    """The design: the same affine with K-hot scales (shift-add) and the stream converters: no DSP."""
    design_dir = tmp_path / "design"
    (design_dir / "rtl").mkdir(parents=True)
    for source in _bank(tmp_path, "no_multiplier", [_affine("khot"), *_converters()]):
        (design_dir / "rtl" / source.name).write_text(source.read_text())
    stream = {"shape": [10], "type": "ap_fixed<12,4>", "width": 12, "frac_bits": 8, "signed": True, "lane": 16,
              "values": 10, "words": 3}
    (design_dir / "design.json").write_text(json.dumps(sealed({"name": "bank", "top": "no_multiplier",
                                                               "board": "ultra96v2", "clock_mhz": 250, "word_bits": 64,
                                                               "input": stream, "output": stream})))
    (design_dir / "report").mkdir()
    timing = {"latency_cycles": 12, "interval_cycles": 4.0, "cycles_per_inference": 4.5, "clock_mhz": 250, "fps": 62_500_000}
    (design_dir / "report" / "cosim.json").write_text(json.dumps(timing))

    assert main(["report", str(design_dir)]) == 0
    out = capsys.readouterr().out
    assert "| DSP48E2 | 0 | 360 | 0.0% |" in out
    assert "| LUT |" in out and "| 70560 |" in out
    assert "latency 12 cycles, initiation interval 4 cycles, 62,500,000 inferences/s at 250 MHz" in out
    saved = json.loads((design_dir / "report" / "resources.json").read_text())
    assert saved["resources"]["dsp"] == 0 and saved["resources"]["lut"] > 0 and saved["timing"] == timing
    # Verilog without the build's stages.json: a row per instance, named by its module
    assert {row["op"]: row["dsp"] for row in saved["layers"]} == {"fxhls_affine": 0, "fxhls_pack": 0, "fxhls_unpack": 0}
    assert (design_dir / "report" / "resources.md").read_text().count("|") > 20
    assert (design_dir / "report" / "resources.png").stat().st_size > 1000


def test_fxhls_report_without_a_build_says_what_to_run(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "design.json not found: " in capsys.readouterr().err


def test_a_stages_json_that_fxhls_build_did_not_write_is_named(tmp_path):
    (tmp_path / "rtl").mkdir()
    assert read_stage_rows(tmp_path, "top") == []
    (tmp_path / "rtl" / "stages.json").write_text('{"top": "other", "stages": []}')
    with pytest.raises(ValueError, match=r"stages.json is not the stage list `fxhls build` writes for 'top'; build again"):
        read_stage_rows(tmp_path, "top")


def test_a_cosim_json_that_fxhls_cosim_did_not_write_is_named(tmp_path):
    (tmp_path / "cosim.json").write_text('{"latency_cycles": 12}')
    with pytest.raises(ValueError, match=r"cosim.json is not the timing `fxhls cosim` writes .*run fxhls cosim again"):
        read_timing(tmp_path / "cosim.json")
    (tmp_path / "cosim.json").write_text('{"latency_')  # cut short
    with pytest.raises(ValueError, match="is not the timing"):
        read_timing(tmp_path / "cosim.json")
    assert read_timing(tmp_path / "none.json") is None


def test_synthesis_counts_are_cached_by_the_design(tmp_path, monkeypatch):
    """A second report of the same sources runs no yosys; a changed source runs it again.
    The same for the per-instance synthesis (a cache entry of its own)."""
    from fxhls.rtl import layer_report, report

    monkeypatch.setenv("FXHLS_CACHE", str(tmp_path / "cache"))
    runs = []
    real = report.run_yosys
    for module in (report, layer_report):
        monkeypatch.setattr(module, "run_yosys", lambda *args: runs.append(args) or real(*args))
    sources = _bank(tmp_path, "cached", [_converters()[0]])
    first = synthesize(sources, "cached")
    assert synthesize(sources, "cached") == first and len(runs) == 1
    per_instance = layer_report.synthesize_instances(sources, "cached")
    assert layer_report.synthesize_instances(sources, "cached") == per_instance and len(runs) == 2
    assert per_instance[0]["unpack"].module.endswith("fxhls_unpack") and per_instance[0]["unpack"].lut_levels > 0
    sources[-1].write_text(sources[-1].read_text() + "\n// changed\n")
    assert synthesize(sources, "cached") == first and len(runs) == 3


def test_fxhls_report_gives_each_stage_its_resources_and_lut_levels(tmp_path, capsys):
    """A multiplier layer, a ReLU and a K-hot layer (the BatchNorm folds into it): the
    multiplier layer's stage has DSP slices, the K-hot one none; the stages and the other
    instances sum to at least the flattened total (no optimisation across instances)."""
    import torch
    from torch import nn

    from fxhls.onnx import export_onnx
    from fxhls.qfx import QBatchNorm1d, QInput, QLinear, QReLU

    torch.manual_seed(0)
    model = nn.Sequential(QInput(), QLinear(6, 4), QReLU(), QBatchNorm1d(4, khot=1), QLinear(4, 3, khot=1)).eval()
    export_onnx(model, torch.randn(2, 6), tmp_path / "small.onnx")
    design_dir = tmp_path / "small"
    assert main(["build", str(tmp_path / "small.onnx"), "--board", "ultra96v2", "--out", str(design_dir)]) == 0
    capsys.readouterr()
    assert main(["report", str(design_dir)]) == 0
    out = capsys.readouterr().out
    saved = json.loads((design_dir / "report" / "resources.json").read_text())
    assert [row["op"] for row in saved["layers"] if "node" in row] == ["Gemm", "Relu", "Gemm"]
    multiplier, khot = [row for row in saved["layers"] if row["op"] == "Gemm"]
    assert multiplier["arithmetic"] == "multipliers" and multiplier["dsp"] > 0, multiplier
    assert khot["arithmetic"] == "K-hot shift-add" and khot["khot"] == 1 and khot["dsp"] == 0, khot
    assert all(row["accumulator"].startswith("ap_fixed<") and "SIMD=" in row["folding"] and row["clocks"] > 0
               for row in (multiplier, khot))
    assert {"fxhls_unpack", "fxhls_pack"} <= {row["op"] for row in saved["layers"]}
    total = saved["resources"]
    for key in ("lut", "ff", "dsp"):
        summed = sum(row[key] for row in saved["layers"])
        assert total[key] <= summed <= 2 * total[key], (key, summed, total[key])
    assert 0 < max(row["lut_levels"] for row in saved["layers"]) <= saved["lut_levels"]
    assert saved["lut_levels_that_fit"] == 8 and "backend rtl" in saved["measured"]
    assert "| stage | op | node |" in out and "about 8 fit the 4.0 ns period of 250 MHz" in out
    assert "## Per stage" in (design_dir / "report" / "resources.md").read_text()


def test_a_stage_counts_its_output_fifo_and_a_path_over_the_clock_is_marked():
    from fxhls.rtl.layer_report import format_layer_table, layer_rows
    from fxhls.rtl.netlist import TOP_CELLS, InstanceNumbers

    numbers = {"top_0_fc": InstanceNumbers("top_0_fc", {"LUT6": 10, "DSP48E2": 2}, 9),
               "top_0_fc_out": InstanceNumbers("$paramod$ab12\\fxhls_fifo", {"LUT3": 4, "FDRE": 6}, 2),
               "unpack": InstanceNumbers("$paramod$cd34\\fxhls_unpack", {"LUT2": 3}, 1),
               TOP_CELLS: InstanceNumbers("top", {"BUFG": 1}, 0)}
    stage = {"stage": "top_0_fc", "op": "Gemm", "node": "fc|<b>", "input": "ap_fixed<8,3>", "output": "ap_fixed<8,3>",
             "weights": "ap_fixed<8,1>", "arithmetic": "multipliers", "khot": None, "accumulator": "ap_fixed<20,8>",
             "folding": "SIMD=2, PE=1", "clocks": 8}
    rows = layer_rows(numbers, [stage])
    assert [(row["stage"], row["op"], row["lut"], row["ff"], row["dsp"], row["lut_levels"]) for row in rows] == [
        ("top_0_fc", "Gemm", 14, 6, 2, 9), ("unpack", "fxhls_unpack", 3, 0, 0, 1)]
    table = format_layer_table(rows, 9, 250, "xcup", "DSP48E2")
    assert "| 14 | 6 | 2 | 0 | 9 (over 8) |" in table and "| 3 | 0 | 0 | 0 | 1 |" in table
    assert "| fc\\|&lt;b&gt; |" in table and "| all stages |" in table  # the node name escaped
