"""The fxhls command line."""

from __future__ import annotations

import subprocess
import sys

from fxhls.cli import main


def test_help_lists_the_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "selfcheck" in out and "tools" in out


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "fxhls.cli", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("fxhls ")


def test_tools_finds_headers_and_compiler(capsys):
    assert main(["tools"]) == 0
    out = capsys.readouterr().out
    assert "ap_fixed headers" in out and "missing" not in out


def test_selfcheck_finds_no_mismatch(capsys):
    assert main(["selfcheck", "--values", "40"]) == 0
    assert " 0 mismatches" in capsys.readouterr().out


def test_missing_headers_is_a_one_line_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XILINX_HLS", str(tmp_path))
    assert main(["selfcheck"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fxhls selfcheck: error:") and "ap_fixed.h is missing" in err and "\n" not in err
