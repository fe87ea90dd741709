"""The deploy package: everything the board needs, written to DIR/deploy/."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from fxhls.board import Board, load_board
from fxhls.hls.vectors import cast_inputs
from fxhls.staging import replace_dir, staging_dir
from fxhls.templating import render

from . import packing
from .backend import IP_REPOS, design_backend
from .notebook import notebook_from_percent_script, notebook_json

# Modules the board runs as they are (numpy and the standard library only): the stream
# format, the transports, and fxhls's own numpy code for the host's work: the input cast
# (quantize_numpy.py) and a float-scaled model's float work (float32.py, with the
# activations it may compute, functions.py).
BOARD_MODULES = (Path(__file__).with_name("packing.py"), Path(__file__).with_name("transports.py"),
                 Path(__file__).parent.parent / "fixed" / "quantize_numpy.py",
                 Path(__file__).parent.parent / "fixed" / "float32.py",
                 Path(__file__).parent.parent / "fixed" / "functions.py")
STREAM_KEYS = ("shape", "type", "width", "frac_bits", "signed", "lane", "values", "words")
DESIGN_KEYS = ("name", "top", "board", "clock_mhz", "word_bits", "input", "output")


def design_hash(design: dict) -> str:
    """sha256 (hex) of the design's canonical JSON, its own "design_hash" left out."""
    content = {key: value for key, value in design.items() if key != "design_hash"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def write_deploy(design: dict, board: Board | str, out_dir, test_inputs, expected_outputs, *,
                 labels=None, ip_repo: str | None = None) -> Path:
    """Write the deploy package for `design` (design.json's content) to `out_dir`/deploy; returns that folder.

    `test_inputs` (batch first) are cast to the design's input type (the host's input
    cast); `expected_outputs` are the emulator's outputs for them, `labels` optional class
    indices. `ip_repo` is the accelerator's IP, relative to the deploy folder (default: where
    the design's backend writes it, `fxhls.deploy.backend.IP_REPOS`); for the RTL backend
    the package also holds package_ip.tcl, which packages DIR/rtl there. A bitstream
    already built in the folder is kept (its design hash tells whether it still fits).
    """
    board = load_board(board) if isinstance(board, str) else board
    _check_design(design, board)
    design = {**design, "design_hash": design_hash(design)}
    inputs = cast_inputs(design, test_inputs)
    expected = _checked_outputs(design["output"], expected_outputs, len(inputs))
    target = Path(out_dir) / "deploy"
    staging = staging_dir(target)
    try:
        _write_files(staging, design, board, ip_repo, inputs, expected, labels)
        for suffix in (".bit", ".hwh", ".design_hash"):
            built = target / f"{design['top']}{suffix}"
            if built.is_file():
                shutil.copy2(built, staging / built.name)
        replace_dir(target, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _write_files(folder: Path, design, board, ip_repo, inputs, expected, labels) -> None:
    backend = design_backend(design)
    context = {"design": design, "board": board, "ip_repo": ip_repo or IP_REPOS[backend], "backend": backend,
               "bd_name": f"{design['top']}_bd", "word_bits": packing.WORD_BITS}
    (folder / "design.json").write_text(json.dumps(design, indent=2) + "\n")
    for module in BOARD_MODULES:
        shutil.copyfile(module, folder / module.name)
    (folder / "driver.py").write_text(render("deploy/driver.py.j2", **context))
    (folder / "block_design.tcl").write_text(render("deploy/block_design.tcl.j2", **context))
    if backend == "rtl":
        (folder / "package_ip.tcl").write_text(render("deploy/package_ip.tcl.j2", **context))
    script = folder / "build_bitstream.sh"
    script.write_text(render("deploy/build_bitstream.sh.j2", **context))
    script.chmod(0o755)
    (folder / "README.md").write_text(render("deploy/README.md.j2", **context))
    notebook = notebook_from_percent_script(render("deploy/fxhls_demo.py.j2", **context))
    (folder / "fxhls_demo.ipynb").write_text(notebook_json(notebook))
    np.save(folder / "test_inputs.npy", inputs)
    np.save(folder / "expected_outputs.npy", expected)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(inputs),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be {len(inputs)} integer class indices, got {labels.dtype} {labels.shape}")
        np.save(folder / "labels.npy", labels)


def _check_design(design: dict, board: Board) -> None:
    missing = [key for key in DESIGN_KEYS if key not in design]
    missing += [f"{role}.{key}" for role in ("input", "output") if role in design
                for key in STREAM_KEYS if key not in design[role]]
    if missing:
        raise ValueError(f"the design lacks {', '.join(missing)}; make it with fxhls.deploy.stream_interface")
    if design["board"] != board.name:
        raise ValueError(f"the design is for board {design['board']!r}, the deploy package for {board.name!r}")


def _checked_outputs(spec: dict, expected_outputs, batch: int) -> np.ndarray:
    y = np.asarray(expected_outputs, dtype=np.float64)
    if y.shape != (batch, *spec["shape"]):
        raise ValueError(f"expected outputs must have shape {(batch, *spec['shape'])}, got {y.shape}")
    try:
        packing.to_codes(y, spec["frac_bits"])
    except ValueError as err:
        raise ValueError(f"expected outputs are not {spec['type']} values: {err}") from None
    return y
