"""Finding and running yosys (Debian's package; the Makefile's setup installs it as root)."""

from __future__ import annotations

import shutil
import subprocess

from fxhls import progress
from fxhls.sim.toolchain import ToolNotFoundError

INSTALL_HINT = "run `sudo apt-get install yosys` (Debian/Ubuntu) or `make setup` as root, then retry"


def yosys_executable() -> str:
    """The `yosys` on PATH."""
    found = shutil.which("yosys")
    if not found:
        raise ToolNotFoundError(f"yosys was not found; {INSTALL_HINT}")
    return found


def yosys_version() -> str:
    """yosys's own version line, e.g. `Yosys 0.23 (git sha1 7ce5011c24b)`."""
    return subprocess.run([yosys_executable(), "-V"], capture_output=True, text=True, check=False).stdout.strip()


def run_yosys(script: str, log_name: str = "yosys") -> str:
    """Run a yosys script (commands separated by newlines); returns its log. `log_name`
    names the step in progress lines and errors. A failing script raises RuntimeError
    with the end of the log."""
    command = [yosys_executable(), "-q", "-p", script.replace("\n", "; ")]
    progress.detail(" ".join(command))
    with progress.step(log_name):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{log_name} failed:\n{(result.stdout + result.stderr)[-4000:]}")
    return result.stdout
