"""Atomic output folders."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time

import pytest

from fxhls.staging import STALE_AFTER_S, remove_stale, replace_dir, staging_dir, write_file


def test_staging_folder_has_the_permissions_of_a_plain_mkdir(tmp_path):
    (tmp_path / "plain").mkdir()
    staging = staging_dir(tmp_path / "out")
    assert staging.parent == tmp_path and not any(staging.iterdir())
    assert staging.stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_replace_dir_swaps_in_the_new_folder(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    staging = staging_dir(target)
    (staging / "new.txt").write_text("new")
    replace_dir(target, staging)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert [p.name for p in target.iterdir()] == ["new.txt"]


def test_a_failed_swap_restores_the_old_folder(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(OSError):
        replace_dir(target, tmp_path / "missing")
    assert [p.name for p in target.iterdir()] == ["old.txt"]


def _killed_process_id() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_staging_entries_of_a_killed_build_are_removed(tmp_path):
    target = tmp_path / "out"
    live = staging_dir(target)
    host = live.name.split("-")[1]
    dead = tmp_path / f".out.staging-{host}-{_killed_process_id()}-abc"
    retired = tmp_path / f".out.old-{host}-{_killed_process_id()}-def"
    partial = tmp_path / f".out.partial-{host}-{_killed_process_id()}-ghi"
    for folder in (dead, retired):
        folder.mkdir()
        (folder / "half.txt").write_text("half")
    partial.write_text("half")
    foreign_old, foreign_new = tmp_path / ".out.staging-otherhost-1-x", tmp_path / ".out.staging-otherhost-1-y"
    foreign_old.mkdir(), foreign_new.mkdir()
    os.utime(foreign_old, (time.time() - STALE_AFTER_S - 60,) * 2)
    assert sorted(remove_stale(target)) == sorted([dead, retired, partial, foreign_old])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, foreign_new.name, "out"])
    assert [p.name for p in target.iterdir()] == ["half.txt"]  # the retired folder, put back: no `out` was left


def test_a_stale_retired_folder_is_removed_when_its_replacement_is_in_place(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    host = staging_dir(tmp_path / "other").name.split("-")[1]
    retired = tmp_path / f".out.old-{host}-{_killed_process_id()}-def"
    retired.mkdir()
    assert remove_stale(target) == [retired] and not retired.exists() and target.is_dir()


def test_write_file_leaves_the_old_file_when_the_write_fails(tmp_path):
    target = tmp_path / "y.npy"
    target.write_bytes(b"old")

    def full_disk(file):
        file.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        write_file(target, full_disk)
    assert [p.name for p in tmp_path.iterdir()] == ["y.npy"] and target.read_bytes() == b"old"
    write_file(target, lambda file: file.write(b"new"))
    assert [p.name for p in tmp_path.iterdir()] == ["y.npy"] and target.read_bytes() == b"new"
