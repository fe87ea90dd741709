"""The cache of compiled programs (fixed-point kernels, oracle, C simulations, Verilator
models), shared by parallel processes: each entry is made once per machine, under a file lock.
Compiled Jinja templates are kept beside them (`fxhls.templating`)."""

from __future__ import annotations

import fcntl
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


def default_cache_dir() -> Path:
    """Where compiled programs are kept: `$FXHLS_CACHE` or `~/.cache/fxhls`."""
    return Path(os.environ.get("FXHLS_CACHE") or Path.home() / ".cache" / "fxhls")


@contextmanager
def locked(folder: Path) -> Iterator[Path]:
    """Hold the lock of cache entry `folder` (created if missing) while the block runs."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield folder


def cached_file(folder: Path, name: str, make: Callable[[Path], None]) -> Path:
    """`folder/name`, made once by `make(path)`, which writes the file at `path` (in a
    scratch folder inside `folder`); concurrent callers wait for the first."""
    target = folder / name
    if target.exists():
        return target
    with locked(folder):
        if not target.exists():
            with tempfile.TemporaryDirectory(dir=folder) as work:
                made = Path(work) / name
                make(made)
                made.rename(target)
    return target
