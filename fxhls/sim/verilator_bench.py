"""Co-simulation of an fxhls RTL top at Verilator's full speed: a C++ bench
(templates/sim/stream_bench.cpp.j2) compiled with the design drives `input_words` and
drains `output_words` under the same random back-pressure as the cocotb bench
(`fxhls.sim.stream_bench`), which stays for the unit benches of single modules. On a
Vitis HLS export whose control is an AXI-Lite slave (`s_axi_control_*`) the bench writes
and reads its control register as the host does.

The executable is cached per design (a hash of the sources, the bench and the tool
versions) as a `cached_file`: made once, sealed, made again when corrupt.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from fxhls import progress
from fxhls.cache import cached_file, content_key, default_cache_dir
from fxhls.deploy.transports import AP_CTRL, AP_DONE, AP_START, AP_START_AUTO_RESTART
from fxhls.templating import render

from .control_register import RegisterAccess, check_control

from .verilator import BUILD_ARGS, require_simulation_tools, verilator_bin_dir, verilator_environment, verilator_version

BENCH = "stream_bench"


class BenchRun(NamedTuple):
    """One batch through the bench: the output words (uint64), their TLAST flags, the
    cycles of the input and output words, the cycles with ap_done high (empty on a
    top without the ap_ctrl_hs handshake as ports), the top's control ("s_axilite",
    "ap_ctrl_hs" or "none"), the bench's accesses of the AXI-Lite control register and
    how many of its reads showed ap_done (`fxhls.sim.control_register`)."""

    words: np.ndarray
    last: list[int]
    in_cycles: list[int]
    out_cycles: list[int]
    done_cycles: list[int]
    control: str
    registers: list[RegisterAccess]
    done_reads: int


def build_stream_bench(sources: list[Path], top: str, lint_errors: bool = True) -> Path:
    """The bench executable of the RTL top `top` built from `sources` (cached). Verilator's
    lint warnings stop the build of fxhls's Verilog (`lint_errors`), not of Verilog that
    Vitis HLS wrote (its `interrupt` port alone is a warning)."""
    sources = [Path(source).resolve() for source in sources]
    bench = render("sim/stream_bench.cpp.j2", top=top, ap_ctrl=AP_CTRL, ap_start=AP_START, ap_done=AP_DONE,
                   start_auto_restart=AP_START_AUTO_RESTART)
    arguments = (*BUILD_ARGS, *(() if lint_errors else ("-Wno-fatal",)))
    key = content_key(f"{top}\0{verilator_version()}\0{arguments}\0{bench}", sources)
    folder = default_cache_dir() / "verilator" / f"bench-{key}"

    def compile_to(executable: Path) -> None:
        with progress.step(f"building the Verilator model of {top} with its C++ stream bench"):
            _compile(sources, top, bench, arguments, executable)

    return cached_file(folder, BENCH, compile_to)


def _compile(sources: list[Path], top: str, bench: str, arguments: tuple[str, ...], executable: Path) -> None:
    require_simulation_tools(cocotb=False)
    work = executable.parent
    (work / f"{BENCH}.cpp").write_text(bench)
    command = [str(verilator_bin_dir() / "verilator"), "--cc", "--exe", "--build", "-j", "2", "-O3",
               "--x-assign", "fast", "--x-initial", "fast", "--top-module", top, *arguments,
               "-Mdir", str(work / "obj"), "-o", BENCH, *map(str, sources), str(work / f"{BENCH}.cpp")]
    progress.detail(" ".join(command))
    with verilator_environment():
        run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"Verilator could not build {top}:\n{(run.stdout + run.stderr)[-6000:]}")
    shutil.move(str(work / "obj" / BENCH), str(executable))


def run_stream_bench(executable: Path, words: np.ndarray, out_count: int, pause: float, seed: int,
                     max_cycles: int, calls: int = 0) -> BenchRun:
    """Stream `words` (uint64, one batch, TLAST on the last) through the bench. On a top
    with the AXI-Lite control the bench starts it once with auto-restart, as the deploy
    driver does (`calls` 0), or makes `calls` calls, one AP_START each; its accesses are
    checked (`fxhls.sim.control_register.check_control`)."""
    if not 0.0 <= pause < 1.0:
        raise ValueError(f"pause is a probability in [0, 1), got {pause!r}")
    with tempfile.TemporaryDirectory(prefix="fxhls_bench_") as work:
        work = Path(work)
        np.savetxt(work / "in.txt", np.asarray(words, dtype=np.uint64).reshape(-1, 1), fmt="%016x")
        run = subprocess.run([str(executable), str(work / "in.txt"), str(out_count), repr(float(pause)), str(seed),
                              str(max_cycles), str(work / "result.txt"), str(calls)], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"the RTL co-simulation failed: {' '.join(run.stderr.split())[:2000]}")
        lines = (work / "result.txt").read_text().split("\n")
    ins = [int(line[3:]) for line in lines if line.startswith("in ")]
    outs = [line.split() for line in lines if line.startswith("out ")]
    data = np.array([int(fields[3], 16) for fields in outs], dtype=np.uint64)
    done = [int(line[5:]) for line in lines if line.startswith("done ")]
    control = next(line.split()[1] for line in lines if line.startswith("control "))
    accesses = (line.split()[1:] for line in lines if line.startswith("reg "))
    registers = [RegisterAccess(int(began), int(ended), kind == "w", int(offset, 16), int(value, 16))
                 for began, ended, kind, offset, value in accesses]
    done_reads = check_control(registers, calls) if control == "s_axilite" else 0
    return BenchRun(data, [int(fields[2]) for fields in outs], ins, [int(fields[1]) for fields in outs], done,
                    control, registers, done_reads)
