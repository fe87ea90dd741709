"""The oracle: a C++ program built against the real `ap_fixed.h` that says what it computes.

`ap_fixed` types are template parameters, so the program is compiled for a set of
types given up front: casts (`T r = x;`), dot products (`Acc s = 0; s += a*b;`) and
the result types of `+ - *` for pairs of types. The sources are split into parts
compiled in parallel, and the binary is cached by a hash of its sources, the
compiler and the headers, so a set of types costs one compile per machine.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Sequence

from fxhls import progress
from fxhls.fixed.types import FixedType
from fxhls.cache import cached_file, default_cache_dir
from fxhls.sim.toolchain import ap_types_include_dir, cxx_compiler
from fxhls.templating import render

RESULT_OPS = ("add", "sub", "mul")


class ApFixedOracle:
    """A running oracle program for the given C++ type spellings.

    `casts`: types to cast doubles into; `dots`: `(a, b, acc)` type triples;
    `pairs`: `(a, b)` type pairs whose result types are asked. Types may be
    `FixedType`s or C++ spellings such as `ap_int<8>`.
    """

    def __init__(
        self,
        casts: Iterable = (),
        dots: Iterable[Sequence] = (),
        pairs: Iterable[Sequence] = (),
        *,
        parts: int = 2,
        cache_dir: Path | None = None,
    ):
        self.casts = _unique(str(t) for t in casts)
        self.dots = _unique(tuple(str(t) for t in triple) for triple in dots)
        self.pairs = _unique(tuple(str(t) for t in pair) for pair in pairs)
        binary = _build(self._sources(max(1, parts)), cache_dir or default_cache_dir())
        self._process = subprocess.Popen(
            [str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def cast(self, t, values: Iterable[float]) -> list[float]:
        """What `t r = x;` stores, for each x, as exact doubles."""
        values = [float(v) for v in values]
        return self._ask(f"c {self.casts.index(str(t))} {len(values)} " + _hex(values))

    def dot(self, a_type, b_type, acc_type, rows: Sequence[tuple[Sequence[float], Sequence[float]]]) -> list[float]:
        """For each row `(a, b)`: `acc_t s = 0; for (k) s += a[k] * b[k];` as an exact double."""
        index = self.dots.index((str(a_type), str(b_type), str(acc_type)))
        length = len(rows[0][0]) if rows else 0
        numbers = [float(v) for a, b in rows for v in (*a, *b)]
        if any(len(a) != length or len(b) != length for a, b in rows):
            raise ValueError("all rows of a dot request must have the same length")
        return self._ask(f"d {index} {len(rows)} {length} " + _hex(numbers))

    def result_types(self, a_type, b_type) -> dict[str, FixedType]:
        """The C++ types of `a + b`, `a - b` and `a * b` (widths and signedness; default modes)."""
        fields = self._ask_raw(f"t {self.pairs.index((str(a_type), str(b_type)))} 0")
        numbers = [int(f) for f in fields]
        return {
            op: FixedType(numbers[3 * i], numbers[3 * i + 1], bool(numbers[3 * i + 2]))
            for i, op in enumerate(RESULT_OPS)
        }

    def close(self) -> None:
        """Stop the program."""
        if self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=10)
        self._process.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _ask(self, request: str) -> list[float]:
        return [float.fromhex(f) for f in self._ask_raw(request)]

    def _ask_raw(self, request: str) -> list[str]:
        self._process.stdin.write(request + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the ap_fixed oracle stopped (exit code {self._process.wait()})")
        return line.split()

    def _sources(self, parts: int) -> dict[str, str]:
        numbered_casts = list(enumerate(self.casts))
        numbered_dots = [(i, *triple) for i, triple in enumerate(self.dots)]
        numbered_pairs = [(i, *pair) for i, pair in enumerate(self.pairs)]
        sources = {
            f"part{p}.cpp": render(
                "sim/apfixed_oracle.cpp.j2",
                part=p,
                casts=numbered_casts[p::parts],
                dots=numbered_dots[p::parts],
                pairs=numbered_pairs[p::parts],
            )
            for p in range(parts)
        }
        sources["main.cpp"] = render("sim/apfixed_oracle_main.cpp.j2", parts=range(parts))
        return sources


def _unique(items: Iterable) -> list:
    return list(dict.fromkeys(items))


def _hex(values: Iterable[float]) -> str:
    return " ".join(v.hex() for v in values)


def _build(sources: dict[str, str], cache_dir: Path) -> Path:
    """Compile the sources once per machine; concurrent callers wait for the first."""
    compiler, include = cxx_compiler(), ap_types_include_dir()
    digest = hashlib.sha256()
    for key in [compiler, str(include), *(f"{n}\0{s}" for n, s in sorted(sources.items()))]:
        digest.update(key.encode() + b"\0")
    for header in sorted(include.glob("*.h")):
        digest.update(header.read_bytes())
    folder = cache_dir / "oracle" / digest.hexdigest()[:24]
    return cached_file(folder, "oracle", lambda path: _compile(sources, compiler, include, path))


def _compile(sources: dict[str, str], compiler: str, include: Path, target: Path) -> None:
    work = target.parent
    for name, text in sources.items():
        (work / name).write_text(text)

    def compile_one(name: str) -> Path:
        obj = work / (name + ".o")
        _run([compiler, "-std=c++14", "-O0", "-w", "-I", str(include), "-c", str(work / name), "-o", str(obj)])
        return obj

    with progress.step(f"compiling the ap_fixed oracle ({len(sources)} files, g++ -O0)"):
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            objects = list(pool.map(compile_one, sorted(sources)))
        _run([compiler, *map(str, objects), "-o", str(target)])


def _run(command: list[str]) -> None:
    progress.detail(" ".join(command))
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"compiling the ap_fixed oracle failed:\n{' '.join(command)}\n{result.stderr[-4000:]}")
