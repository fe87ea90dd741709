"""Atomic output folders."""

from __future__ import annotations

import pytest

from fxhls.staging import replace_dir, staging_dir


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
