"""Per-stage resources and LUT levels of fxhls's RTL (the rows of `fxhls report`) for the
test models of the newer stages: Softmax and ArgMax (tests/test_softmax_hardware.py), PRelu
and Upsample (tests/test_keras_hardware.py), Concat (tests/test_layers_conv1d_groups_concat.py)
and Table (tests/test_qfx_activations.py).

Each model is built with `--backend rtl` for the Ultra96-V2 at 250 MHz and reported with
`fxhls.rtl.report.report_design` (yosys `synth_xilinx -family xcup`, per instance); the
script prints, for each stage of the ops named, LUT, FF, DSP48E2, BRAM36 and its longest
path in LUT levels against the levels that fit the clock (`levels / fit`: at most 1 meets it).

Run from the repository root:  .venv/bin/python bench/rtl_stage_levels.py [--only softmax ...]
(yosys synthesizes each model twice; a report of an unchanged design comes from the cache).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from fxhls.hls.build import build_project
from fxhls.model_config import model_config, read_config
from fxhls.onnx import export_onnx
from fxhls.rtl.report import report_design

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from float_models import export_torch  # noqa: E402  (the models the tests check)
from keras_models import keras_cnn, torch_cnn  # noqa: E402
from layer_models import JOIN_TYPES_CONFIG, float_layer_models, qfx_layer_models  # noqa: E402
from test_qfx_activations import _chain  # noqa: E402
from test_softmax import _ArgMaxHead, _helper_model, _mlp  # noqa: E402

OPS = ("Softmax", "ArgMax", "PRelu", "Upsample", "Concat", "Table")
SOFTMAX_TYPES = ["ap_fixed<16,6>", "ap_fixed<10,4>"]  # --softmax-types


def _softmax_models(folder: Path):
    from onnx import helper

    for head, module in (("softmax", torch.nn.Softmax(dim=1)), ("argmax", _ArgMaxHead())):
        export_torch(_mlp(module), (8,), folder / f"{head}_mlp.onnx")
        for spelling in SOFTMAX_TYPES:
            yield f"{head} MLP, 10 classes, {spelling}", folder / f"{head}_mlp.onnx", model_config(default_type=spelling)
    image = _helper_model(folder / "image_softmax.onnx", [helper.make_node("Softmax", ["z"], ["y"], name="head", axis=1)],
                          image=True)
    yield "image softmax, 6 classes, ap_fixed<10,4>", image, model_config(default_type="ap_fixed<10,4>")


def _other_models(folder: Path):
    keras_cnn(folder / "keras_cnn.onnx", alpha=0.125)
    yield "Keras CNN (PRelu, Upsample)", folder / "keras_cnn.onnx", model_config(default_type="ap_fixed<16,6>")
    module, shape = torch_cnn()
    export_torch(module, shape, folder / "torch_cnn.onnx")
    yield "PyTorch CNN (PRelu, Upsample)", folder / "torch_cnn.onnx", model_config(default_type="ap_fixed<16,6>")
    for name, module, shape, config in float_layer_models():
        if name in ("inception", "join_types"):
            export_torch(module, shape, folder / f"{name}.onnx")
            (folder / f"{name}.yaml").write_text(config or "default_type: ap_fixed<16,6>\n")
            yield f"{name} (Concat)", folder / f"{name}.onnx", read_config(folder / f"{name}.yaml")
    for name, module, shape in qfx_layer_models():
        if name == "qfx_inception":
            export_onnx(module, torch.randn(2, *shape), folder / f"{name}.onnx")
            yield f"{name} (Concat)", folder / f"{name}.onnx", None
    chain, x = _chain()
    export_onnx(chain, x[:2], folder / "qfx_tables.onnx")
    yield "QFX activation chain (Table)", folder / "qfx_tables.onnx", None


def measure(name: str, path: Path, types, folder: Path) -> list[dict]:
    """The report's rows of the stages of OPS, each with the levels that fit its clock."""
    out = folder / re.sub(r"\W+", "_", name)
    with contextlib.redirect_stdout(io.StringIO()):
        build_project(path, "ultra96v2", out, types=types, backend="rtl", force=True)
        report_design(out)
    saved = json.loads((out / "report" / "resources.json").read_text())
    return [{**row, "fit": saved["lut_levels_that_fit"]} for row in saved["layers"] if row.get("op") in OPS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=("softmax", "others"), default=("softmax", "others"))
    parser.add_argument("--softmax-types", nargs="+", default=SOFTMAX_TYPES,
                        help="the MLPs' default types (ap_fixed<16,6> takes yosys about 10 minutes)")
    args = parser.parse_args()
    SOFTMAX_TYPES[:] = args.softmax_types
    print("| model | stage op | folding | LUT | FF | DSP48E2 | BRAM36 | LUT levels | levels / fit |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        groups = {"softmax": _softmax_models, "others": _other_models}
        for group in args.only:
            for name, path, types in groups[group](folder):
                for row in measure(name, path, types, folder):
                    print(f"| {name} | {row['op']} | {row['folding']} | {row['lut']:,} | {row['ff']:,} | {row['dsp']} | "
                          f"{row['bram36']:g} | {row['lut_levels']} | {row['lut_levels'] / row['fit']:.2f} |",
                          flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
