"""Atomic output folders: write into a staging folder beside the target, then swap it in,
so a failed write leaves no half-written folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def staging_dir(target: Path) -> Path:
    """A fresh, empty folder beside `target` (same file system, so renames are atomic),
    with the permissions a plain `mkdir` would give."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    mask = os.umask(0)
    os.umask(mask)
    staging.chmod(0o777 & ~mask)
    return staging


def replace_dir(target: Path, staging: Path) -> None:
    """Put `staging` in the place of `target` (which may exist); the old folder is deleted
    only once the new one is in place, and restored if the swap fails."""
    if not target.exists():
        staging.rename(target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    retired.rmdir()
    target.rename(retired)
    try:
        staging.rename(target)
    except OSError:
        retired.rename(target)
        raise
    shutil.rmtree(retired, ignore_errors=True)
