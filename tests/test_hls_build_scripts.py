"""What a build directory runs besides fxhls: the Vitis HLS Tcl (run by tclsh against
stand-ins of the Vitis commands), the Makefile's C simulation, `--synth` with vitis_hls
(without it: tests/test_cli_teaching.py), and the testbench's file protocol and self-check."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap

import pytest

from fxhls.cli import main
from fxhls.deploy import stream_interface
from fxhls.hls.synth import read_csynth_report
from fxhls.hls.writer import write_hls_project
from fxhls.sim.csim import compile_csim
from hls_build_helpers import GraphBuilder

# Vitis HLS commands as Tcl procedures that log their arguments; export_design makes the IP folder.
MOCK_VITIS = textwrap.dedent("""\
    set log [open vitis_calls.txt w]
    foreach command {set_top add_files open_solution set_part create_clock csim_design csynth_design
                     cosim_design} {
        proc $command {args} "puts \\$::log \\"$command \\$args\\""
    }
    proc open_project {args} {
        puts $::log "open_project $args"
        set ::project [lindex $args end]
    }
    proc export_design {args} {
        puts $::log "export_design $args"
        file mkdir $::project/solution1/impl/ip
        close [open $::project/solution1/impl/ip/component.xml w]
    }
    set argv $steps
    set argc [llength $argv]
    source build_prj.tcl
    """)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    b = GraphBuilder((3, 2, 2), "ap_fixed<7,2,AP_RND_CONV,AP_SAT>")
    b.add("Relu", [b.add("Flatten", [b.last])])
    graph = b.graph()
    out = tmp_path_factory.mktemp("project")
    write_hls_project(graph, stream_interface(graph, "tiny", "ultra96v2", 200), out)
    return out


@pytest.mark.parametrize("steps,expected,ip", [
    ("", ["csim_design", "csynth_design", "cosim_design", "export_design"], True),
    ("csim synth", ["csim_design", "csynth_design"], False),
])
def test_the_tcl_runs_the_steps_for_the_board(project, tmp_path, steps, expected, ip):
    folder = tmp_path / "run"
    shutil.copytree(project, folder)
    (folder / "mock.tcl").write_text(f"set steps {{{steps}}}\n" + MOCK_VITIS)
    run = subprocess.run(["tclsh", "mock.tcl"], cwd=folder, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    calls = (folder / "vitis_calls.txt").read_text().splitlines()
    assert "set_part xczu3eg-sbva484-1-i" in calls and "create_clock -period 5 -name default" in calls
    assert "set_top tiny" in calls and "add_files firmware/tiny.cpp -cflags {-std=c++14 -Ifirmware}" in calls
    assert [call.split()[0] for call in calls if call.split()[0].endswith("_design")] == expected
    assert (folder / "ip" / "component.xml").is_file() == ip


def test_an_unknown_step_is_an_error(project, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(project, folder)
    (folder / "mock.tcl").write_text("set steps {synth place}\n" + MOCK_VITIS)
    run = subprocess.run(["tclsh", "mock.tcl"], cwd=folder, capture_output=True, text=True)
    assert run.returncode != 0 and "unknown step place; the steps are csim synth cosim export" in run.stderr


def test_make_csim_self_checks(project, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(project, folder)
    run = subprocess.run(["make", "-s", "csim"], cwd=folder, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "tiny_tb: 8 samples, 0 of 16 output words differ from the emulator" in run.stdout


def test_the_file_protocol_and_its_errors(project, tmp_path):
    simulator = str(compile_csim(project))
    lines = (project / "tb" / "input_words.txt").read_text().splitlines()
    (tmp_path / "in.txt").write_text("\n".join(lines[:4]) + "\n")  # two samples of 2 words
    run = subprocess.run([simulator, str(tmp_path / "in.txt"), str(tmp_path / "out.txt")], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out.txt").read_text().splitlines() == \
        (project / "tb" / "expected_words.txt").read_text().splitlines()[:4]
    for content, message in (("\n".join(lines[:3]) + "\n", "3 input words are not a batch of samples of 2 words"),
                             ("0123\n", "expected a word as 16 hex digits"), ("", "0 input words")):
        (tmp_path / "bad.txt").write_text(content)
        run = subprocess.run([simulator, str(tmp_path / "bad.txt"), str(tmp_path / "out.txt")],
                             capture_output=True, text=True)
        assert run.returncode == 1 and message in run.stderr and len(run.stderr.splitlines()) == 1


def test_the_self_check_sees_a_wrong_word(project, tmp_path):
    folder = tmp_path / "tb"
    shutil.copytree(project / "tb", folder)
    words = (folder / "expected_words.txt").read_text().splitlines()
    words[3] = f"{int(words[3], 16) ^ 1:016x}"
    (folder / "expected_words.txt").write_text("\n".join(words) + "\n")
    run = subprocess.run([str(compile_csim(project))], cwd=folder, capture_output=True, text=True)
    assert run.returncode == 1 and "1 of 16 output words differ" in run.stdout


CSYNTH_XML = """<profile>
  <UserAssignments><TargetClockPeriod>5.00</TargetClockPeriod></UserAssignments>
  <PerformanceEstimates>
    <SummaryOfTimingAnalysis><EstimatedClockPeriod>3.52</EstimatedClockPeriod></SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency><Best-caseLatency>40</Best-caseLatency><Worst-caseLatency>42</Worst-caseLatency>
      <Interval-min>17</Interval-min><Interval-max>17</Interval-max></SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources><BRAM_18K>0</BRAM_18K><DSP>13</DSP><FF>1200</FF><LUT>2300</LUT><URAM>0</URAM></Resources>
    <AvailableResources><BRAM_18K>432</BRAM_18K><DSP>360</DSP><FF>141120</FF><LUT>70560</LUT><URAM>0</URAM>
    </AvailableResources>
  </AreaEstimates>
</profile>
"""


def test_synth_runs_vitis_hls_and_reads_its_report(tmp_path, monkeypatch, capsys):
    model = tmp_path / "m.onnx"
    _export_mlp(model)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "vitis_hls"
    report = "m_prj/solution1/syn/report"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > vitis_args.txt\nmkdir -p {report}\n"
                    f"echo 'INFO: [HLS 200-111] Finished C synthesis.'\n"
                    f"cat > {report}/m_csynth.xml <<'EOF'\n{CSYNTH_XML}EOF\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert main(["build", str(model), "--board", "ultra96v2", "--out", str(tmp_path / "out"), "--synth"]) == 0
    out, err = capsys.readouterr()
    assert "  INFO: [HLS 200-111] Finished C synthesis." in err  # Vitis HLS's own output, streamed
    assert "Vitis HLS: estimated clock 3.52 ns, latency 40-42 clocks, interval 17-17 clocks" in out
    assert "DSP: 13 of 360" in out and "LUT: 2300 of 70560" in out
    assert (tmp_path / "out" / "vitis_args.txt").read_text().split() == ["-f", "build_prj.tcl", "-tclargs", "csim",
                                                                           "synth"]
    assert read_csynth_report(tmp_path / "out", "m")["BRAM_18K"] == (0, 432)


def _export_mlp(path):
    import torch

    from fxhls.onnx import export_onnx
    from qfx_models import qfx_zoo

    _, model, shape = next(entry for entry in qfx_zoo() if entry[0] == "mlp")
    export_onnx(model, torch.randn(2, *shape), path)
