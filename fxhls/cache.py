"""The cache of compiled programs (fixed-point kernels, oracle, C simulations, Verilator
models), shared by parallel processes: each entry is made once per machine, under a file lock.
Compiled Jinja templates are kept beside them (`fxhls.templating`)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
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
    scratch folder inside `folder`); concurrent callers wait for the first. An entry
    whose content is no longer what was made (a corrupt binary) is made again."""
    target = folder / name
    if is_intact(target):
        return target
    with locked(folder):
        if not is_intact(target):
            for leftover in folder.glob(".making-*"):  # of a maker killed while it held this lock
                shutil.rmtree(leftover, ignore_errors=True)
            with tempfile.TemporaryDirectory(prefix=".making-", dir=folder) as work:
                made = Path(work) / name
                make(made)
                with open(made, "rb") as file:
                    os.fsync(file.fileno())
                made.rename(target)
            seal(target)
    return target


def seal(path: Path) -> None:
    """Record the digest of the cache entry `path` (beside it), for `is_intact`."""
    _seal_path(path).write_text(_digest(path))


def is_intact(path: Path) -> bool:
    """Whether the cache entry `path` exists with the content it was sealed with. An entry
    of an fxhls that did not seal them is trusted and sealed now."""
    if not path.is_file():
        return False
    try:
        return _seal_path(path).read_text() == _digest(path)
    except FileNotFoundError:
        seal(path)
        return True


def _seal_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.sha256")


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
