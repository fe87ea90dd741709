"""`fxhls package DIR`: one archive of DIR/deploy to copy to the board.

The archive is reproducible: the same files give the same bytes (no timestamps, owners
or file system order in it), and it is written atomically (`fxhls.staging.write_file`).
"""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

from fxhls.staging import write_file

from .interface import read_design


def make_package(build_dir) -> tuple[Path, bool]:
    """Write DIR/<top>.tar.gz holding DIR/deploy as the folder <top>/; returns the archive's
    path and whether the bitstream (<top>.bit, .hwh, .design_hash) is in it."""
    deploy = Path(build_dir) / "deploy"
    top = read_design(deploy / "design.json")["top"]
    has_bitstream = all((deploy / f"{top}{suffix}").is_file() for suffix in (".bit", ".hwh", ".design_hash"))
    files = [path for path in sorted(deploy.rglob("*")) if path.is_file()
             and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts]
    archive = Path(build_dir) / f"{top}.tar.gz"

    def write(file) -> None:
        with gzip.GzipFile(filename="", mode="wb", fileobj=file, mtime=0) as packed, \
                tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in files:
                tar.add(path, arcname=f"{top}/{path.relative_to(deploy).as_posix()}", filter=_normalized)

    write_file(archive, write)
    return archive, has_bitstream


def _normalized(member: tarfile.TarInfo) -> tarfile.TarInfo:
    """`member` without what differs between runs and machines: time, owner, umask."""
    member.mtime = 0
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    member.mode = 0o755 if member.mode & 0o100 else 0o644
    return member
