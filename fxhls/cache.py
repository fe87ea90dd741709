"""The cache of compiled programs (fixed-point kernels, oracle, C simulations, Verilator
models), shared by parallel processes: each entry is made once per machine, under a file lock.
Compiled Jinja templates are kept beside them (`fxhls.templating`).

The cache folder holds one folder per kind (`KINDS`), each holding its entries. Using an
entry marks it used; making one evicts the least recently used others while the cache is
larger than its limit (`cache_limit`). `fxhls cache` shows it, `fxhls cache clear` empties it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import platformdirs
from filelock import FileLock, Timeout

KINDS = {
    "native": "native fixed-point kernels (quantize on arrays)",
    "templates": "compiled Jinja templates (build)",
    "hls_vendor": "precompiled ap_fixed headers (csim)",
    "hls_csim": "C simulation programs (csim)",
    "verilator": "Verilator models (cosim)",
    "oracle": "ap_fixed oracle programs (selfcheck)",
    "yosys": "yosys synthesis statistics (report)",
    "hls_layers": "HLS layer harnesses (the test suite)",
}
DEFAULT_LIMIT = 2 * 10**9
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}


@dataclass(frozen=True)
class CacheEntry:
    """One cached thing: its kind (the folder it is in), path, size in bytes, and when it
    was last used (a time stamp)."""

    kind: str
    path: Path
    size: int
    last_used: float


def default_cache_dir() -> Path:
    """Where compiled programs are kept: `$FXHLS_CACHE`, or the platform's user cache
    folder (`~/.cache/fxhls` on Linux, honouring `$XDG_CACHE_HOME`)."""
    return Path(os.environ.get("FXHLS_CACHE") or platformdirs.user_cache_dir("fxhls", appauthor=False))


def content_key(key: str, files) -> str:
    """The name of a cache entry made from `files` by what `key` says (commands, tool
    versions): 24 hex digits of the sha256 of `key` and the files' names and contents."""
    digest = hashlib.sha256(key.encode())
    for path in map(Path, files):
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:24]


def cache_limit() -> int:
    """The most bytes the cache keeps: `$FXHLS_CACHE_LIMIT` (bytes, or with a unit: 500M,
    2G, 1.5GB, 4GiB), else 2 GB."""
    text = os.environ.get("FXHLS_CACHE_LIMIT", "").strip()
    if not text:
        return DEFAULT_LIMIT
    match = re.fullmatch(r"(\d+(?:\.\d*)?)\s*([kmgt]i?)?b?", text.lower())
    if match is None:
        raise ValueError(f"FXHLS_CACHE_LIMIT={text!r} is not a size: write bytes or a size such as 500M, 2G or 4GiB")
    return int(float(match.group(1)) * _UNITS[match.group(2) or ""])


def cache_entries(root: Path | None = None) -> list[CacheEntry]:
    """Every entry of the cache folder `root` (default: `default_cache_dir()`), by kind then path."""
    root = root or default_cache_dir()
    if not root.is_dir():
        return []
    entries = []
    for kind in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(p for p in kind.iterdir() if not p.name.startswith(".")):
            try:
                entries.append(CacheEntry(kind.name, path, _size(path), path.stat().st_mtime))
            except FileNotFoundError:  # removed by another process meanwhile
                continue
    return entries


def mark_used(entry: Path) -> None:
    """Note that the cache entry `entry` was just used (it is evicted last)."""
    try:
        os.utime(entry)
    except OSError:  # a cache shared read-only: nothing to evict there either
        pass


def evict(made: Path, limit: int | None = None) -> list[CacheEntry]:
    """After making the entry `made` (a folder of a kind's folder): remove the least
    recently used other entries while the cache is larger than `limit` (default:
    `cache_limit()`); an entry being made by another process stays. Returns those removed."""
    root = made.parent.parent
    limit = cache_limit() if limit is None else limit
    entries = sorted(cache_entries(root), key=lambda entry: entry.last_used)
    total = sum(entry.size for entry in entries)
    removed = []
    for entry in entries:
        if total <= limit:
            break
        if entry.path != made and _remove(root, entry.path):
            total -= entry.size
            removed.append(entry)
    return removed


def clear_cache(root: Path | None = None) -> list[CacheEntry]:
    """Remove every entry of the cache (but those being made); returns those removed."""
    root = root or default_cache_dir()
    return [entry for entry in cache_entries(root) if _remove(root, entry.path)]


@contextmanager
def locked(folder: Path) -> Iterator[Path]:
    """Hold the lock of cache entry `folder` (created if missing) while the block runs."""
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(folder / ".lock"):
        yield folder


def cached_file(folder: Path, name: str, make: Callable[[Path], None]) -> Path:
    """`folder/name`, made once by `make(path)`, which writes the file at `path` (in a
    scratch folder inside `folder`); concurrent callers wait for the first. An entry
    whose content is no longer what was made (a corrupt binary) is made again."""
    target = folder / name
    if is_intact(target):
        mark_used(folder)
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
    evict(folder)
    return target


def seal(path: Path) -> None:
    """Record the digest of the cache entry `path` (beside it), for `is_intact`."""
    _seal_path(path).write_text(_digest(path))


def is_intact(path: Path) -> bool:
    """Whether the cache entry `path` exists with the content it was sealed with. An entry
    of an fxhls that did not seal them is trusted and sealed now. An entry evicted by
    another process meanwhile is not intact."""
    try:
        digest = _digest(path)
    except OSError:  # missing, or removed meanwhile
        return False
    try:
        return _seal_path(path).read_text() == digest
    except FileNotFoundError:
        pass
    try:
        seal(path)
    except FileNotFoundError:  # removed meanwhile
        return False
    return True


def _seal_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.sha256")


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove(root: Path, path: Path) -> bool:
    """Remove the entry `path` unless another process holds its lock: renamed first (one
    step, so no one finds it half removed), then deleted. Whether it was removed."""
    with ExitStack() as held:
        try:
            if path.is_dir():
                held.enter_context(FileLock(path / ".lock", timeout=0))
            trash = Path(tempfile.mkdtemp(prefix=".removing-", dir=root))
        except Timeout:  # being made
            return False
        except OSError:  # removed or being removed by another process meanwhile
            return False
        try:
            path.rename(trash / path.name)
        except FileNotFoundError:
            trash.rmdir()
            return False
    shutil.rmtree(trash, ignore_errors=True)
    return True


def _size(path: Path) -> int:
    """Bytes in the file or folder `path`."""
    if not path.is_dir():
        return path.stat().st_size
    return sum(os.lstat(os.path.join(folder, name)).st_size for folder, _, names in os.walk(path) for name in names)
