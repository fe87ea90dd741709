"""`fxhls package DIR`: one archive of DIR/deploy to copy to the board."""

from __future__ import annotations

import tarfile
from pathlib import Path

from .interface import read_design


def make_package(build_dir) -> tuple[Path, bool]:
    """Write DIR/<top>.tar.gz holding DIR/deploy as the folder <top>/; returns the archive's
    path and whether the bitstream (<top>.bit, .hwh, .design_hash) is in it."""
    deploy = Path(build_dir) / "deploy"
    top = read_design(deploy / "design.json")["top"]
    has_bitstream = all((deploy / f"{top}{suffix}").is_file() for suffix in (".bit", ".hwh", ".design_hash"))
    archive = Path(build_dir) / f"{top}.tar.gz"
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w:gz") as tar:
        for path in sorted(deploy.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
                tar.add(path, arcname=f"{top}/{path.relative_to(deploy)}")
    partial.replace(archive)
    return archive, has_bitstream
