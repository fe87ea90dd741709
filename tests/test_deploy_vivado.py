"""build_bitstream (fxhls build --bitstream): build_bitstream.sh run with a stand-in `vivado` on PATH."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from deploy_designs import device_outputs, image_design, sample_inputs

from fxhls.deploy import build_bitstream, write_deploy
from fxhls.deploy.notebook import notebook_from_percent_script, notebook_json

MOCK_VIVADO = Path(__file__).with_name("deploy_mock_vivado.tcl")


def fake_vivado(folder: Path, log: Path) -> None:
    """A `vivado` that runs `-source SCRIPT -tclargs ARGS` under the mock of Vivado's commands."""
    script = folder / "vivado"
    script.write_text(
        "#!/bin/sh\n"
        'while [ "$1" != "-source" ]; do shift; done\n'
        'source=$2; shift 3\n'
        f'exec {shutil.which("tclsh")} {MOCK_VIVADO} {log} 1 1 "$source" "$@"\n'
    )
    script.chmod(0o755)


def test_build_bitstream_runs_the_script_with_vivado(tmp_path, monkeypatch):
    x = sample_inputs(2)
    deploy = write_deploy(image_design(), "ultra96v2", tmp_path, x, device_outputs(x))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_vivado(bin_dir, tmp_path / "calls.log")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert build_bitstream(deploy, ip_repo="../hls/ip", jobs=2) == deploy / "tiny_cnn.bit"
    calls = (tmp_path / "calls.log").read_text()
    assert f"set_property ip_repo_paths {tmp_path / 'hls' / 'ip'} project_1" in calls
    assert "launch_runs impl_1 -to_step write_bitstream -jobs 2" in calls
    design = json.loads((deploy / "design.json").read_text())
    assert (deploy / "tiny_cnn.design_hash").read_text().strip() == design["design_hash"]


def test_build_bitstream_without_vivado_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"vivado is not on PATH: on a machine with Vivado run .*build_bitstream.sh"):
        build_bitstream(tmp_path / "deploy")


def test_notebook_from_a_percent_script():
    written = notebook_json(notebook_from_percent_script(
        "# %% [markdown]\n# # Title\n#\n# Some *text*.\n\n# %%\nx = 1\n\nprint(x)\n\n\n# %%\ny = 2\n"
    ))
    notebook = nbformat.reads(written, as_version=4)
    nbformat.validate(notebook)
    assert nbformat.writes(notebook) + "\n" == written  # as nbformat writes it
    assert [(cell.cell_type, cell.source) for cell in notebook.cells] == [
        ("markdown", "# Title\n\nSome *text*."),
        ("code", "x = 1\n\nprint(x)"),
        ("code", "y = 2"),
    ]
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_a_percent_script_starts_with_a_cell_mark():
    with pytest.raises(ValueError, match="a percent script starts with '# %%', got 'x = 1'"):
        notebook_from_percent_script("x = 1\n# %%\ny = 2\n")
