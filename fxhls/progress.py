"""Progress of fxhls's long steps (compiling with g++, building with Verilator, simulating
samples, synthesizing with yosys), written to stderr.

On a terminal a counted step shows a tqdm bar; in a log or CI every step writes one
line when it starts and one when it ends. Library calls are quiet until someone sets a
level: the `fxhls` command sets NORMAL, or QUIET with --quiet, or VERBOSE with --verbose
(which also shows the commands fxhls runs).
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator

QUIET, NORMAL, VERBOSE = 0, 1, 2
_level = QUIET


def set_verbosity(level: int) -> None:
    """How much the long steps say from now on: QUIET, NORMAL or VERBOSE."""
    global _level
    _level = level


def verbosity() -> int:
    """The level set by `set_verbosity` (QUIET until then)."""
    return _level


def detail(message: str) -> None:
    """A line only --verbose shows, such as a command about to run."""
    if _level >= VERBOSE:
        print(message, file=sys.stderr, flush=True)


@contextmanager
def step(what: str) -> Iterator[None]:
    """A long step without a count of its own (a compile, a synthesis): `what...` when
    it starts, `what: done in N s` when it ends."""
    if _level == QUIET:
        yield
        return
    start = time.monotonic()
    print(f"{what}...", file=sys.stderr, flush=True)
    yield
    print(f"{what}: done in {time.monotonic() - start:.1f} s", file=sys.stderr, flush=True)


@contextmanager
def counted(what: str, total: int, unit: str) -> Iterator[Callable[[int], object]]:
    """A step of `total` units (samples): yields `advance(n)`, to call as units are done.
    A bar on a terminal; elsewhere a `step`, so a log gets two lines, not one per update."""
    if _level == QUIET:
        yield lambda n: None
    elif _on_terminal():
        from tqdm import tqdm

        with tqdm(total=total, desc=what, unit=f" {unit}", file=sys.stderr, dynamic_ncols=True) as bar:
            yield bar.update
    else:
        with step(f"{what}: {total} {unit}"):
            yield lambda n: None


def run_streamed(command: list[str], cwd, what: str, tail: int = 5) -> tuple[int, list[str]]:
    """Run a vendor tool (Vitis HLS, Vivado), its output streamed line by line to stderr as
    it comes (unless QUIET), not swallowed; returns its exit status and its last `tail` lines."""
    import collections
    import subprocess

    last = collections.deque(maxlen=tail)
    with step(what):
        detail(" ".join(command))
        with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              errors="replace") as process:
            for line in process.stdout:
                last.append(line.rstrip("\n"))
                if _level > QUIET:
                    print(f"  {line.rstrip()}", file=sys.stderr, flush=True)
    return process.returncode, list(last)


def _on_terminal() -> bool:
    return sys.stderr.isatty()
