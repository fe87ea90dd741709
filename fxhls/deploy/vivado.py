"""Running the deploy package's Vivado flow where Vivado is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .backend import IP_REPOS, design_backend
from .interface import read_design


def build_bitstream(deploy_dir, ip_repo: str | None = None, jobs: int = 4) -> Path:
    """Run DIR/deploy/build_bitstream.sh (Vivado on PATH; for the RTL backend it first
    packages DIR/rtl as an IP into `ip_repo`); returns the bitstream's path."""
    deploy = Path(deploy_dir)
    if shutil.which("vivado") is None:
        raise RuntimeError(
            f"vivado is not on PATH: on a machine with Vivado run {deploy / 'build_bitstream.sh'} "
            "(after 'source <Vivado install>/settings64.sh')"
        )
    design = read_design(deploy / "design.json")
    top = design["top"]
    args = ["sh", "build_bitstream.sh", ip_repo or IP_REPOS[design_backend(design)], str(jobs)]
    run = subprocess.run(args, cwd=deploy)
    if run.returncode != 0:
        raise RuntimeError(f"the Vivado build failed (exit {run.returncode}): see {deploy.parent / 'vivado.log'}")
    bitfile = deploy / f"{top}.bit"
    if not bitfile.is_file():
        raise RuntimeError(f"Vivado finished but wrote no {bitfile}")
    return bitfile
