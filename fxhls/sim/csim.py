"""C simulation of an fxhls HLS project: its firmware and testbench compiled with g++
against the `ap_fixed` headers, run through the simulation file protocol.

The executable is cached by a hash of everything that goes into it (sources, headers,
compiler, flags), so a project built twice, or by parallel test workers, compiles once.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np

from fxhls import progress
from fxhls.deploy.interface import read_design
from fxhls.deploy.transports import SimulatorTransport
from fxhls.cache import cached_file, default_cache_dir
from fxhls.sim.toolchain import ap_types_include_dir, cxx_compiler

# -O1: compiles faster than -O2 and runs a convolution 40x faster than -O0 (measured on the cnn
# zoo model: 6-8 s to compile, 0.5 s for 1,000 samples). At -O1 g++ 12 reports uninitialized
# values inside the vendor headers (default-constructed ap_fixed), which -isystem does not
# silence: those two warnings are off, every other one is an error.
FLAGS = ("-std=c++14", "-O1", "-Wall", "-Wextra", "-Werror", "-Wno-unknown-pragmas", "-Wno-uninitialized",
         "-Wno-maybe-uninitialized")
SAMPLES_PER_RUN = 256


def compile_csim(project_dir) -> Path:
    """The C simulation executable of the project (compiled, or found in the cache)."""
    project = Path(project_dir)
    top = read_design(project / "design.json")["top"]
    sources = [project / "firmware" / f"{top}.cpp", project / "tb" / f"{top}_tb.cpp"]
    include = ap_types_include_dir()
    vendor = _vendor_header(include)
    command = [cxx_compiler(), *FLAGS, "-isystem", str(include), "-I", str(vendor), "-include", VENDOR_HEADER,
               "-I", str(project / "firmware"), *map(str, sources)]
    digest = _digest(include, [(path.relative_to(project).as_posix(), path) for path in
                               sorted((project / "firmware").rglob("*.h")) + sources])
    return _cached("hls_csim", digest, f"{top}_csim", lambda output: [*command, "-o", str(output)], str(project))


VENDOR_HEADER = "fxhls_vendor.h"


def _vendor_header(include: Path) -> Path:
    """A folder holding fxhls_vendor.h (the vendor headers every project includes) and
    its precompiled form: each compile then skips parsing them (a third of its time).
    g++ reads the header itself where the precompiled one does not fit."""
    text = '#include "ap_fixed.h"\n#include "ap_int.h"\n#include "hls_stream.h"\n'
    digest = _digest(include, [(VENDOR_HEADER, text.encode())])

    def command(output: Path) -> list[str]:
        (output.parent / VENDOR_HEADER).write_text(text)
        return [cxx_compiler(), *FLAGS, "-isystem", str(include), "-x", "c++-header",
                str(output.parent / VENDOR_HEADER), "-o", str(output)]

    precompiled = _cached("hls_vendor", digest, f"{VENDOR_HEADER}.gch", command, "the vendor headers")
    if not (precompiled.parent / VENDOR_HEADER).is_file():
        (precompiled.parent / VENDOR_HEADER).write_text(text)
    return precompiled.parent


def _digest(include: Path, files) -> str:
    """A hash of the compiler, flags, vendor headers and `files` ((name, path or bytes) pairs)."""
    digest = hashlib.sha256(" ".join([cxx_compiler(), *FLAGS, str(include)]).encode())
    for name, content in [*files, *((path.name, path) for path in sorted(include.glob("*.h")))]:
        digest.update(f"{name}\n".encode())
        digest.update(content if isinstance(content, bytes) else content.read_bytes())
    return digest.hexdigest()[:24]


def _cached(kind: str, digest: str, name: str, command, what: str) -> Path:
    """The file `name` of the cache entry kind/digest, made by running `command(path)` once."""
    def make(path: Path) -> None:
        arguments = command(path)
        progress.detail(" ".join(arguments))
        with progress.step(f"compiling the C simulation of {what} (g++)"):
            result = subprocess.run(arguments, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"compiling the C simulation of {what} failed:\n{result.stderr[-6000:]}")

    return cached_file(default_cache_dir() / kind / digest, name, make)


def run_csim(project_dir, x) -> np.ndarray:
    """The project's outputs for the model inputs x (batch first): through the host's
    float work and input cast, streamed through the C simulation, unpacked to float64
    values and through the host's float work after the hardware."""
    from fxhls.hls import vectors

    design = read_design(Path(project_dir) / "design.json")
    values = vectors.host_inputs(design, x)
    transport = SimulatorTransport([str(compile_csim(project_dir))])
    words = vectors.to_words(design["input"], values)
    out_words = design["output"]["words"]
    results = []
    with progress.counted("csim", len(words), "samples") as advance:
        for start in range(0, len(words), SAMPLES_PER_RUN):
            chunk = words[start:start + SAMPLES_PER_RUN]
            received = transport.transfer(chunk.reshape(-1), len(chunk) * out_words)
            results.append(received.reshape(len(chunk), out_words))
            advance(len(chunk))
    return vectors.host_outputs(design, vectors.from_words(design["output"], np.concatenate(results)))
