"""The user's RTL route through the command line, for tests: `fxhls build --backend rtl`,
then `fxhls cosim` of a batch against the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fxhls.cli import main


def build_and_cosim(model, x: np.ndarray, folder, capsys, *build_options: str, output=None) -> str:
    """Build `model` for the Ultra96-V2 with the RTL backend into `folder` (`build_options`
    added, e.g. "--default-type", T), then co-simulate the batch `x` against the model with
    the configuration the build saved (where it saved one), writing the outputs to `output`
    where given; returns what cosim printed."""
    folder = Path(folder)
    inputs = folder.parent / f"{folder.name}_x.npy"
    np.save(inputs, x)
    assert main(["build", str(model), "--board", "ultra96v2", "--out", str(folder), "--backend", "rtl",
                 *build_options, "-q"]) == 0
    capsys.readouterr()
    config = folder / "config.yaml"
    cosim = ["cosim", str(folder), "--input", str(inputs), "--model", str(model)]
    cosim += ["--config", str(config)] if config.is_file() else []
    cosim += ["--output", str(output)] if output is not None else []
    assert main([*cosim, "-q"]) == 0
    return capsys.readouterr().out
