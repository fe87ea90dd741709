"""Cache entries that no longer hold what was made (a corrupt binary) are made again."""

from __future__ import annotations

from fxhls.cache import cached_file, is_intact


def _entry(tmp_path):
    """An entry folder laid out as in the cache (root/kind/entry): eviction looks at root only."""
    folder = tmp_path / "cache" / "kind" / "entry"
    folder.mkdir(parents=True)
    return folder


def _maker(calls: list):
    def make(path):
        calls.append(path)
        path.write_bytes(b"\x7fELF a program")
    return make


def test_a_corrupt_entry_is_made_again(tmp_path):
    tmp_path = _entry(tmp_path)
    calls = []
    entry = cached_file(tmp_path, "program", _maker(calls))
    assert cached_file(tmp_path, "program", _maker(calls)) == entry and len(calls) == 1
    entry.write_bytes(b"\x7fELF a prog")  # cut short
    assert not is_intact(entry)
    assert cached_file(tmp_path, "program", _maker(calls)) == entry and len(calls) == 2
    assert entry.read_bytes() == b"\x7fELF a program"


def test_an_entry_made_before_entries_were_sealed_is_trusted_once_sealed(tmp_path):
    tmp_path = _entry(tmp_path)
    (tmp_path / "program").write_bytes(b"made by an older fxhls")
    calls = []
    assert cached_file(tmp_path, "program", _maker(calls)).read_bytes() == b"made by an older fxhls"
    assert calls == [] and (tmp_path / "program.sha256").is_file()


def test_a_corrupt_verilator_model_is_relinked(tmp_path):
    from fxhls.sim.verilator import build

    source = tmp_path / "wire.v"
    source.write_text("module wire_top(input wire a, output wire b);\n  assign b = a;\nendmodule\n")
    folder = build([source], "wire_top", cache_dir=tmp_path / "cache", optimize=False)
    executable = folder / "wire_top"
    made = executable.read_bytes()
    executable.write_bytes(made[: len(made) // 2])  # cut short: make would call it up to date
    assert build([source], "wire_top", cache_dir=tmp_path / "cache", optimize=False) == folder
    assert is_intact(executable) and len(executable.read_bytes()) == len(made)


def test_the_scratch_folder_of_a_killed_maker_is_removed(tmp_path):
    tmp_path = _entry(tmp_path)
    (tmp_path / ".making-abc").mkdir()
    (tmp_path / ".making-abc" / "half.o").write_bytes(b"half")
    cached_file(tmp_path, "program", _maker([]))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "program", "program.sha256"]
