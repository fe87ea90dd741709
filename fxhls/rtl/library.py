"""The library of parameterised Verilog modules in `templates/rtl/` (plain .v files)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def library_dir() -> Path:
    """The folder holding the library's modules (`templates/rtl`, shipped as fxhls package data)."""
    return Path(str(resources.files("fxhls") / "templates" / "rtl"))


def library_sources(*modules: str) -> list[Path]:
    """The files of the named modules, e.g. `library_sources("fxhls_cast", "fxhls_relu")`."""
    paths = [library_dir() / f"{module}.v" for module in modules]
    for path in paths:
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in library_dir().glob("*.v")))
            raise ValueError(f"no RTL module {path.stem!r} in {library_dir()}; known: {known}")
    return paths
