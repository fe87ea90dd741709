"""The cache of compiled programs stays small and visible: `fxhls cache` shows its folder,
size and entries by kind, `fxhls cache clear` empties it, and making an entry evicts the
least recently used others past FXHLS_CACHE_LIMIT. Every test has its own FXHLS_CACHE."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fxhls.cache import (DEFAULT_LIMIT, cache_entries, cache_limit, cached_file, clear_cache,
                         default_cache_dir, locked)
from fxhls.cli import main


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("FXHLS_CACHE", str(root))
    monkeypatch.delenv("FXHLS_CACHE_LIMIT", raising=False)
    return root


def _entry(root: Path, kind: str, name: str, size: int, used: float | None = None) -> Path:
    """A cache entry of `size` bytes made through `cached_file`, last used at `used`."""
    folder = root / kind / name
    cached_file(folder, "program", lambda path: path.write_bytes(b"x" * size))
    if used is not None:
        os.utime(folder, (used, used))
    return folder


def test_fxhls_cache_wins_over_the_platform_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("FXHLS_CACHE", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("FXHLS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "fxhls"


@pytest.mark.parametrize("text, limit", [("", DEFAULT_LIMIT), ("123", 123), ("500M", 500 * 10**6),
                                         ("2G", 2 * 10**9), ("1.5GB", 15 * 10**8), ("4GiB", 4 * 2**30)])
def test_the_limit_takes_bytes_or_a_unit(text, limit, monkeypatch):
    monkeypatch.setenv("FXHLS_CACHE_LIMIT", text)
    assert cache_limit() == limit


def test_a_bad_limit_is_a_one_line_error(cache, monkeypatch, capsys):
    monkeypatch.setenv("FXHLS_CACHE_LIMIT", "lots")
    assert main(["cache"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("fxhls cache: error: FXHLS_CACHE_LIMIT='lots' is not a size: write bytes or a size such as "
                   "500M, 2G or 4GiB")


def test_fxhls_cache_shows_the_folder_size_and_entries_by_kind(cache, capsys):
    _entry(cache, "verilator", "a", 3000)
    _entry(cache, "verilator", "b", 2000)
    _entry(cache, "hls_csim", "c", 1000)
    assert main(["cache"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{cache}: 6.19kB in 3 entries, limit 2.00GB"  # each program and its 64-byte seal
    assert lines[1].split()[:3] == ["hls_csim", "1", "1.06kB"] and "C simulation programs" in lines[1]
    assert lines[2].split()[:3] == ["verilator", "2", "5.13kB"] and "Verilator models" in lines[2]
    assert len(lines) == 3
    assert main(["cache", "--verbose"]) == 0
    entries = [line.split()[:2] for line in capsys.readouterr().out.splitlines() if line.startswith("    ")]
    assert sorted(entries) == [["a", "3.06kB"], ["b", "2.06kB"], ["c", "1.06kB"]]


def test_fxhls_cache_clear_empties_it(cache, capsys):
    _entry(cache, "native", "a", 1000)
    (cache / "templates").mkdir()
    (cache / "templates" / "__jinja2_x.cache").write_bytes(b"y" * 500)
    assert main(["cache", "clear"]) == 0
    assert capsys.readouterr().out.strip() == f"{cache}: removed 2 entries, 1.56kB"
    assert cache_entries(cache) == [] and sorted(p.name for p in cache.iterdir()) == ["native", "templates"]
    assert main(["cache"]) == 0
    assert capsys.readouterr().out.strip() == f"{cache}: 0.00B in 0 entries, limit 2.00GB"


def test_an_empty_cache_is_shown_without_making_it(cache, capsys):
    assert main(["cache"]) == 0 and not cache.exists()


def test_making_an_entry_evicts_the_least_recently_used_past_the_limit(cache, monkeypatch):
    monkeypatch.setenv("FXHLS_CACHE_LIMIT", "2500")
    _entry(cache, "hls_csim", "old", 1000, used=1_000)
    _entry(cache, "hls_csim", "older", 1000, used=500)
    assert [entry.path.name for entry in cache_entries(cache)] == ["old", "older"]
    _entry(cache, "verilator", "new", 1000)
    assert [entry.path.name for entry in cache_entries(cache)] == ["old", "new"]
    _entry(cache, "hls_csim", "old", 1000)  # found, so used now: "new" is the least recently used
    _entry(cache, "oracle", "newest", 1000)
    assert sorted(entry.path.name for entry in cache_entries(cache)) == ["newest", "old"]
    assert (cache / "hls_csim" / "old" / "program").read_bytes() == b"x" * 1000
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # nothing half removed left behind


def test_an_entry_being_made_is_not_evicted(cache, monkeypatch):
    monkeypatch.setenv("FXHLS_CACHE_LIMIT", "1500")
    busy = _entry(cache, "verilator", "busy", 1000, used=0)
    with locked(busy):  # another process making it would hold this lock
        _entry(cache, "verilator", "new", 1000)
        assert [entry.path.name for entry in cache_entries(cache)] == ["busy", "new"]
        assert [entry.path.name for entry in clear_cache(cache)] == ["new"]
    assert [entry.path.name for entry in cache_entries(cache)] == ["busy"]


MAKER = """
import sys
from pathlib import Path
from fxhls.cache import cached_file
for i in range(15):
    cached_file(Path(sys.argv[1]) / "hls_csim" / f"{sys.argv[2]}-{i}", "program", lambda p: p.write_bytes(bytes(1000)))
"""


def test_processes_making_entries_at_once_keep_the_cache_near_its_limit(cache):
    env = {**os.environ, "FXHLS_CACHE_LIMIT": "5000", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    makers = [subprocess.Popen([sys.executable, "-c", MAKER, str(cache), str(n)], env=env, stderr=subprocess.PIPE,
                               text=True) for n in range(4)]
    assert [(maker.wait(), maker.stderr.read()) for maker in makers] == [(0, "")] * 4
    total = sum(entry.size for entry in cache_entries(cache))
    assert 1000 <= total <= 5000 + 3 * 1000  # the others' last entries may have come after one's last eviction
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]
