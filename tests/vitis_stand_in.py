"""Stand-ins for the Verilog Vitis HLS exports of fxhls's C++ top, for the co-simulation
tests: fxhls's own Verilog (DIR/rtl) with its top renamed, wrapped by a test template
(tests/rtl/) that gives it the ports and handshake of Vitis's export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent / "rtl"


def copy_renamed_top(build: Path, export: Path) -> tuple[str, str]:
    """Copy build/rtl/*.v into `export`, the top <top> renamed <top>_fxhls (in its module line
    and its file name); returns (top, inner): the names of the export's top and of fxhls's."""
    top = json.loads((build / "design.json").read_text())["top"]
    inner = f"{top}_fxhls"
    export.mkdir(parents=True, exist_ok=True)
    for source in (build / "rtl").glob("*.v"):
        shutil.copy(source, export / source.name)
    text = (export / f"{top}.v").read_text()
    assert text.count(f"module {top} (") == 1
    (export / f"{top}.v").unlink()
    (export / f"{inner}.v").write_text(text.replace(f"module {top} (", f"module {inner} ("))
    return top, inner


def render(template: str, **values) -> str:
    """The test template tests/rtl/`template` rendered with `values`."""
    return jinja2.Template((TEMPLATES / template).read_text(), keep_trailing_newline=True).render(**values)
