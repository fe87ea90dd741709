"""Co-simulation of an fxhls RTL top at Verilator's full speed: a C++ bench
(templates/sim/stream_bench.cpp.j2) compiled with the design drives `input_words` and
drains `output_words` under the same random back-pressure as the cocotb bench
(`fxhls.sim.stream_bench`), which stays for the unit benches of single modules.

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
from fxhls.templating import render

from .verilator import BUILD_ARGS, require_simulation_tools, verilator_bin_dir, verilator_environment, verilator_version

BENCH = "stream_bench"


class BenchRun(NamedTuple):
    """One batch through the bench: the output words (uint64), their TLAST flags, the
    cycles of the input and output words, and the cycles with ap_done high (empty on a
    top without the ap_ctrl_hs handshake)."""

    words: np.ndarray
    last: list[int]
    in_cycles: list[int]
    out_cycles: list[int]
    done_cycles: list[int]


def build_stream_bench(sources: list[Path], top: str) -> Path:
    """The bench executable of the RTL top `top` built from `sources` (cached)."""
    sources = [Path(source).resolve() for source in sources]
    bench = render("sim/stream_bench.cpp.j2", top=top)
    key = content_key(f"{top}\0{verilator_version()}\0{BUILD_ARGS}\0{bench}", sources)
    folder = default_cache_dir() / "verilator" / f"bench-{key}"

    def compile_to(executable: Path) -> None:
        with progress.step(f"building the Verilator model of {top} with its C++ stream bench"):
            _compile(sources, top, bench, executable)

    return cached_file(folder, BENCH, compile_to)


def _compile(sources: list[Path], top: str, bench: str, executable: Path) -> None:
    require_simulation_tools(cocotb=False)
    work = executable.parent
    (work / f"{BENCH}.cpp").write_text(bench)
    command = [str(verilator_bin_dir() / "verilator"), "--cc", "--exe", "--build", "-j", "2", "-O3",
               "--x-assign", "fast", "--x-initial", "fast", "--top-module", top, *BUILD_ARGS,
               "-Mdir", str(work / "obj"), "-o", BENCH, *map(str, sources), str(work / f"{BENCH}.cpp")]
    progress.detail(" ".join(command))
    with verilator_environment():
        run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"Verilator could not build {top}:\n{(run.stdout + run.stderr)[-6000:]}")
    shutil.move(str(work / "obj" / BENCH), str(executable))


def run_stream_bench(executable: Path, words: np.ndarray, out_count: int, pause: float, seed: int,
                     max_cycles: int) -> BenchRun:
    """Stream `words` (uint64, one batch, TLAST on the last) through the bench."""
    if not 0.0 <= pause < 1.0:
        raise ValueError(f"pause is a probability in [0, 1), got {pause!r}")
    with tempfile.TemporaryDirectory(prefix="fxhls_bench_") as work:
        work = Path(work)
        np.savetxt(work / "in.txt", np.asarray(words, dtype=np.uint64).reshape(-1, 1), fmt="%016x")
        run = subprocess.run([str(executable), str(work / "in.txt"), str(out_count), repr(float(pause)), str(seed),
                              str(max_cycles), str(work / "result.txt")], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"the RTL co-simulation failed: {' '.join(run.stderr.split())[:2000]}")
        lines = (work / "result.txt").read_text().split("\n")
    ins = [int(line[3:]) for line in lines if line.startswith("in ")]
    outs = [line.split() for line in lines if line.startswith("out ")]
    data = np.array([int(fields[3], 16) for fields in outs], dtype=np.uint64)
    done = [int(line[5:]) for line in lines if line.startswith("done ")]
    return BenchRun(data, [int(fields[2]) for fields in outs], ins, [int(fields[1]) for fields in outs], done)
