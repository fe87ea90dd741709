"""Atomic outputs: write into a staging folder (or a partial file) beside the target, then
swap it in, so a failed write leaves no half-written folder or file.

A process killed mid-write leaves its hidden staging entry behind; its name holds the
host and the process id that made it, so the next write to the same target removes it
once that process is gone (or, made elsewhere, once it is older than any write could be).
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Callable

STALE_AFTER_S = 24 * 3600  # an entry of another host (or of an older fxhls) this old is left over
_KINDS = ("staging", "old", "partial")


def staging_dir(target: Path) -> Path:
    """A fresh, empty folder beside `target` (same file system, so renames are atomic),
    with the permissions a plain `mkdir` would give. Stale staging folders of `target`
    are removed first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    staging = Path(tempfile.mkdtemp(prefix=_prefix(target, "staging"), dir=target.parent))
    staging.chmod(0o777 & ~_umask())
    return staging


def replace_dir(target: Path, staging: Path) -> None:
    """Put `staging` in the place of `target` (which may exist); the old folder is deleted
    only once the new one is in place, and restored if the swap fails."""
    if not target.exists():
        staging.rename(target)
        return
    retired = Path(tempfile.mkdtemp(prefix=_prefix(target, "old"), dir=target.parent))
    retired.rmdir()
    target.rename(retired)
    try:
        staging.rename(target)
    except OSError:
        retired.rename(target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def write_file(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Make the file `target` with `write(file)`: written beside it, flushed to disk, then
    renamed over it, so `target` is either complete or as it was (a full disk included)."""
    target = Path(target)
    if not target.parent.is_dir():
        raise ValueError(f"{target}: the folder {target.parent} does not exist")
    if target.is_dir():
        raise ValueError(f"{target} is a folder; give the name of a file to write")
    remove_stale(target)
    fd, partial = tempfile.mkstemp(prefix=_prefix(target, "partial"), dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(partial, 0o666 & ~_umask())
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def remove_stale(target: Path) -> list[Path]:
    """Remove the staging entries of `target` (folders and partial files beside it) that
    no running write owns; returns them. A retired `target` whose replacement never came
    (killed between the two renames of `replace_dir`) is put back instead."""
    removed = []
    for kind in _KINDS:
        for entry in target.parent.glob(f".{glob.escape(target.name)}.{kind}-*"):
            if _is_stale(entry, entry.name[len(f".{target.name}.{kind}-"):]):
                if kind == "old" and not target.exists():
                    entry.rename(target)
                elif entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed.append(entry)
    return removed


def _prefix(target: Path, kind: str) -> str:
    return f".{target.name}.{kind}-{_HOST}-{os.getpid()}-"


def _is_stale(entry: Path, owner: str) -> bool:
    host, _, rest = owner.partition("-")
    pid = rest.partition("-")[0]
    if host == _HOST and pid.isdigit():
        return not _running(int(pid))
    try:
        return time.time() - entry.lstat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or no process id at all
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
