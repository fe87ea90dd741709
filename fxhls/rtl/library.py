"""The library of parameterised Verilog modules in `templates/rtl/` (plain .v files)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

# An instance of a library module at the start of a line: `fxhls_cast #(` or `fxhls_fifo name (`.
_INSTANCE = re.compile(r"^\s*(fxhls_\w+)\s*(?:#|\w+\s*\()", re.MULTILINE)


def library_dir() -> Path:
    """The folder holding the library's modules (`templates/rtl`, shipped as fxhls package data)."""
    return Path(str(resources.files("fxhls") / "templates" / "rtl"))


def library_sources(*modules: str) -> list[Path]:
    """The files of the named modules and of every library module they instantiate, each
    once, e.g. `library_sources("fxhls_pool")` (which brings fxhls_window, fxhls_reduce, ...)."""
    found: dict[str, Path] = {}
    pending = list(modules)
    while pending:
        module = pending.pop()
        if module in found:
            continue
        path = library_dir() / f"{module}.v"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in library_dir().glob("*.v")))
            raise ValueError(f"no RTL module {module!r} in {library_dir()}; known: {known}")
        found[module] = path
        pending += [name for name in _INSTANCE.findall(path.read_text()) if (library_dir() / f"{name}.v").is_file()]
    return sorted(found.values())
