"""`fxhls cache`: where the cache of compiled programs is, what it holds, and emptying it."""

from __future__ import annotations

import time
from collections import defaultdict

from fxhls import cache
from fxhls.cli_common import add_command
from fxhls.progress import VERBOSE


def add_cache_command(commands) -> None:
    """Add `cache` to the `fxhls` subcommands."""
    command = add_command(
        commands, "cache", "show the cache of compiled programs, or clear it",
        "Show the folder where fxhls keeps what it compiles (native kernels, templates, C simulations, "
        "Verilator models, the ap_fixed oracle), its size and limit, and its entries by kind (each entry with "
        "--verbose). Past the limit, making an entry removes the least recently used. The folder is "
        "$FXHLS_CACHE, else the platform's user cache folder; the limit is $FXHLS_CACHE_LIMIT (e.g. 500M, 4G), "
        "else 2 GB. `fxhls cache clear` empties it: everything is compiled again when next needed.",
        """\
        fxhls cache
        fxhls cache clear
        FXHLS_CACHE_LIMIT=500M fxhls cache""")
    command.add_argument("action", nargs="?", choices=("show", "clear"), default="show",
                         help="show (the default) or clear")
    command.set_defaults(run=_cache)


def _cache(args) -> int:
    root = cache.default_cache_dir()
    if args.action == "clear":
        removed = cache.clear_cache(root)
        print(f"{root}: removed {len(removed)} entries, {_size(sum(entry.size for entry in removed))}")
        return 0
    entries = cache.cache_entries(root)
    print(f"{root}: {_size(sum(entry.size for entry in entries))} in {len(entries)} entries, "
          f"limit {_size(cache.cache_limit())}")
    by_kind = defaultdict(list)
    for entry in entries:
        by_kind[entry.kind].append(entry)
    for kind in sorted(by_kind, key=lambda kind: (kind not in cache.KINDS, list(cache.KINDS).index(kind)
                                                  if kind in cache.KINDS else kind)):
        found = by_kind[kind]
        print(f"  {kind:11} {len(found):5} {_size(sum(entry.size for entry in found)):>8}  "
              f"{cache.KINDS.get(kind, '')}".rstrip())
        if args.verbosity >= VERBOSE:
            for entry in sorted(found, key=lambda entry: entry.last_used, reverse=True):
                used = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.last_used))
                print(f"    {entry.path.name:26} {_size(entry.size):>8}  last used {used}")
    return 0


def _size(count: int) -> str:
    from tqdm import tqdm

    return tqdm.format_sizeof(count, "B")
