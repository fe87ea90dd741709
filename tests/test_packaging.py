"""A non-editable install carries the templates and board files inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_ships_templates_and_boards(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path / "dist"), str(REPO)],
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("fxhls-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.relative_to(REPO).as_posix() for p in (REPO / "templates").rglob("*.j2")}
    boards = {p.relative_to(REPO).as_posix() for p in (REPO / "boards").glob("*.yaml")}
    assert templates and boards
    assert {f"fxhls/{name}" for name in templates | boards} <= names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    rendered = subprocess.run(
        [sys.executable, "-c",
         "import fxhls.templating as t; print(t.__file__); print(t.render('sim/apfixed_oracle_main.cpp.j2', parts=[0]))"],
        cwd=tmp_path, env={"PYTHONPATH": str(site)}, capture_output=True, text=True, check=True,
    ).stdout
    assert rendered.startswith(str(site)) and "oracle_part_0" in rendered
