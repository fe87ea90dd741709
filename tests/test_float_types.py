"""Float models typed at import (`--input-type`, `--default-type`, `--config`): the C
simulation equals the emulator with ==, the outputs stay close to float, the build saves
its configuration and repeats from it, and a float model without types or a bad config is
refused in one line."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import onnx
import pytest

from fxhls.cli import main
from fxhls.emulation import emulate
from fxhls.hls.build import build_project
from fxhls.model_config import model_config, read_config
from fxhls.onnx import load_onnx
from fxhls.onnx.float_types import type_float_model
from fxhls.sim.csim import run_csim
from float_models import export_torch, hand_built, onnx_float, top_class_agreement, torch_float, torch_models

DEFAULT = "ap_fixed<16,6>"
CONFIG = """\
input_type: ap_fixed<12,4,AP_RND,AP_SAT>
default_type: ap_fixed<18,8>
reuse: 2
layers:
  "fc*":
    weight: ap_fixed<10,2,AP_RND_CONV>
    reuse: 3
  fc1:
    output: ap_fixed<16,6,AP_RND,AP_SAT>
    accumulator: ap_fixed<28,12>
    reuse: 48                     # its 48 inputs one a clock: the RTL sums a narrowed accumulator in order
  conv1:
    weight: ap_fixed<8,2,AP_RND>
"""


def _inputs(shape, samples=200, seed=3):
    return np.random.default_rng(seed).normal(size=(samples, *shape))


def _close_to_float(y, reference, name):
    agreement, error = top_class_agreement(y, reference), np.abs(y - reference).max()
    print(f"{name}: top class equal on {agreement:.1%} of {len(y)} samples, largest error {error:.4g}")
    assert agreement >= 0.95
    return error


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_torch_float_model_with_default_type(name, dynamo, tmp_path):
    module, shape = torch_models()[name]
    export_torch(module, shape, tmp_path / "model.onnx", dynamo)
    x = _inputs(shape)
    out, _ = build_project(tmp_path / "model.onnx", "ultra96v2", tmp_path / "build",
                           types=model_config(default_type=DEFAULT))
    expected = emulate(tmp_path / "model.onnx", x, default_type=DEFAULT)
    got = run_csim(out, x)
    assert got.shape == expected.shape and int((got != expected).sum()) == 0
    assert _close_to_float(expected, torch_float(module, x), name) < 0.05
    assert read_config(out / "config.yaml").default_type == model_config(default_type=DEFAULT).default_type


def test_hand_built_model_with_config(tmp_path):
    hand_built(tmp_path / "model.onnx")
    (tmp_path / "config.yaml").write_text(CONFIG)
    x = _inputs((2, 4, 4))
    graph = load_onnx(tmp_path / "model.onnx", config=tmp_path / "config.yaml")
    types = {node.name: node for node in graph.nodes}
    assert str(graph.tensors[types["conv1/weight_quantize"].outputs[0]].type) == "ap_fixed<8,2,AP_RND>"
    assert str(graph.tensors[types["fc2/weight_quantize"].outputs[0]].type) == "ap_fixed<10,2,AP_RND_CONV>"
    assert str(graph.tensors[types["fc2/bias_quantize"].outputs[0]].type) == "ap_fixed<18,8>"
    assert types["fc1"].attrs["acc_type"] == "ap_fixed<28,12>"
    assert str(graph.tensors[types["fc1/output_quantize"].outputs[0]].type) == "ap_fixed<16,6,AP_RND,AP_SAT>"

    out, project = build_project(tmp_path / "model.onnx", "ultra96v2", tmp_path / "build",
                                 types=model_config(tmp_path / "config.yaml"))
    expected = emulate(tmp_path / "model.onnx", x, config=tmp_path / "config.yaml")
    assert int((run_csim(out, x) != expected).sum()) == 0
    _close_to_float(expected, onnx_float(tmp_path / "model.onnx", x), "hand-built")
    with open(out / "report" / "layers.csv") as report:
        reuse = {row["onnx_node"]: int(row["reuse"]) for row in csv.DictReader(report)}
    assert (reuse["conv1"], reuse["fc1"], reuse["fc2"]) == (2, 48, 3)
    saved = read_config(out / "config.yaml")
    assert saved.reuse == 2 and saved.layers["fc1"]["reuse"] == 48
    again, _ = build_project(tmp_path / "model.onnx", "ultra96v2", tmp_path / "again", types=saved)
    for path in sorted((out / "firmware").rglob("*")):
        if path.is_file():
            assert (again / path.relative_to(out)).read_bytes() == path.read_bytes(), path


def test_command_line_types(tmp_path, capsys):
    hand_built(tmp_path / "model.onnx")
    np.save(tmp_path / "x.npy", _inputs((2, 4, 4), samples=20))
    model, x, build = str(tmp_path / "model.onnx"), str(tmp_path / "x.npy"), str(tmp_path / "build")
    assert main(["build", model, "--board", "ultra96v2", "--out", build, "--input-type", "ap_fixed<10,4>",
                 "--default-type", DEFAULT, "--reuse", "fc2=2", "-q"]) == 0
    assert main(["emulate", model, "--input", x, "--output", str(tmp_path / "y.npy"), "--config",
                 f"{build}/config.yaml"]) == 0
    assert main(["csim", build, "--input", x, "--model", model, "--input-type", "ap_fixed<10,4>",
                 "--default-type", DEFAULT, "-q"]) == 0
    assert "0 of 100 output values differ" in capsys.readouterr().out
    assert read_config(f"{build}/config.yaml").layers == {"fc2": {"reuse": 2}}
    assert main(["csim", build, "--input", x, "--model", model, "--default-type", DEFAULT, "-q"]) == 1


def _one_line_error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_float_model_without_types_is_refused(tmp_path, capsys):
    hand_built(tmp_path / "model.onnx")
    np.save(tmp_path / "x.npy", _inputs((2, 4, 4), samples=2))
    err = _one_line_error(["emulate", str(tmp_path / "model.onnx"), "--input", str(tmp_path / "x.npy"), "--output",
                           str(tmp_path / "y.npy")], capsys)
    assert "input 'x' needs a fixed-point type" in err and "--input-type" in err and "--default-type" in err
    err = _one_line_error(["build", str(tmp_path / "model.onnx"), "--board", "ultra96v2", "--out",
                           str(tmp_path / "b"), "--input-type", DEFAULT], capsys)
    assert "the weight 'conv1.w' of node 'conv1' has no fixed-point type" in err and "--default-type" in err
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("text, message", [
    ("layers:\n  fc9:\n    weight: ap_fixed<8,2>\n", "layers entry 'fc9' names no node of the model"),
    ("layers:\n  'dense*':\n    reuse: 2\n", "layers entry 'dense*' names no node"),
    ("default_type: ap_fixed<16\n", "default_type: cannot parse fixed-point type"),
    ("layers:\n  fc1:\n    weights: ap_fixed<8,2>\n", "layers entry 'fc1': unknown key 'weights'"),
    ("layers:\n  fc1:\n    reuse: 0\n", "layers entry 'fc1': reuse: a reuse factor is a positive integer"),
    ("layers:\n  fc1: ap_fixed<8,2>\n", "layers entry 'fc1': a node name or pattern mapped to"),
    ("default_type: [1, 2\n", "not a YAML file"),
    ("- ap_fixed<8,2>\n", "a config is a mapping"),
    ("precision: ap_fixed<8,2>\n", "unknown key 'precision'"),
    ("layers:\n  fc1: {weight: ap_fixed<8,2>}\n", "a type inside {...} must be quoted"),
])
def test_bad_config_is_refused_naming_the_entry(text, message, tmp_path, capsys):
    hand_built(tmp_path / "model.onnx")
    (tmp_path / "config.yaml").write_text(text)
    np.save(tmp_path / "x.npy", _inputs((2, 4, 4), samples=2))
    err = _one_line_error(["emulate", str(tmp_path / "model.onnx"), "--input", str(tmp_path / "x.npy"), "--output",
                           str(tmp_path / "y.npy"), "--default-type", DEFAULT, "--config",
                           str(tmp_path / "config.yaml")], capsys)
    assert f"{tmp_path / 'config.yaml'}: " in err and message in err


def test_types_are_for_float_models(tmp_path):
    hand_built(tmp_path / "float.onnx")
    onnx.save(type_float_model(onnx.load(str(tmp_path / "float.onnx")), model_config(default_type=DEFAULT), "m"),
              str(tmp_path / "quantized.onnx"))
    x = _inputs((2, 4, 4), samples=5)
    assert (emulate(tmp_path / "quantized.onnx", x) == emulate(tmp_path / "float.onnx", x,
                                                               default_type=DEFAULT)).all()
    with pytest.raises(ValueError, match=r"quantized already \(node 'x/Quantize' is a Quantize\); --default-type "
                                         r"and config types are for float models"):
        load_onnx(tmp_path / "quantized.onnx", default_type=DEFAULT)
    with pytest.raises(ValueError, match=r"input 'x' is quantized by node 'x/Quantize' already; --input-type is for "
                                         r"a quantized model's float input"):
        load_onnx(tmp_path / "quantized.onnx", input_type=DEFAULT)
    (tmp_path / "reuse.yaml").write_text("layers:\n  fc2:\n    reuse: 2\n")
    load_onnx(tmp_path / "quantized.onnx", config=tmp_path / "reuse.yaml")
    (tmp_path / "reuse.yaml").write_text("layers:\n  fc3:\n    reuse: 2\n")
    with pytest.raises(ValueError, match="layers entry 'fc3' names no node"):
        load_onnx(tmp_path / "quantized.onnx", config=tmp_path / "reuse.yaml")


def test_rtl_cosim_of_a_configured_float_model(tmp_path, capsys):
    hand_built(tmp_path / "model.onnx")
    (tmp_path / "config.yaml").write_text(CONFIG)
    np.save(tmp_path / "x.npy", _inputs((2, 4, 4), samples=12))
    model, x, build = str(tmp_path / "model.onnx"), str(tmp_path / "x.npy"), str(tmp_path / "build")
    assert main(["build", model, "--board", "ultra96v2", "--out", build, "--config", str(tmp_path / "config.yaml"),
                 "--backend", "rtl", "-q"]) == 0
    assert main(["cosim", build, "--input", x, "--model", model, "--config", f"{build}/config.yaml", "-q"]) == 0
    assert "0 of 60 output values differ" in capsys.readouterr().out
    err = _one_line_error(["cosim", build, "--input", x, "--default-type", DEFAULT], capsys)
    assert "give --model MODEL.onnx" in err


def test_python_api_takes_the_types(tmp_path):
    import fxhls

    hand_built(tmp_path / "model.onnx")
    x = _inputs((2, 4, 4), samples=10)
    out = fxhls.build(tmp_path / "model.onnx", "ultra96v2", tmp_path / "build", input_type="ap_fixed<10,4>",
                      default_type=DEFAULT, reuse={"fc2": 2})
    y = fxhls.emulate(tmp_path / "model.onnx", x, config=out / "config.yaml")
    assert (fxhls.csim(out, x) == y).all()
    assert (y != fxhls.emulate(tmp_path / "model.onnx", x, default_type=DEFAULT)).any()


def test_the_readme_config_example_reads(tmp_path):
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    example = re.search(r"```yaml\n(input_type:.*?)```", readme, re.S).group(1)
    (tmp_path / "config.yaml").write_text(example)
    config = read_config(tmp_path / "config.yaml")
    assert str(config.layers["fc*"]["weight"]) == "ap_fixed<10,2,AP_RND_CONV>" and config.layers["fc1"]["reuse"] == 4
    assert str(config.layers["fc1"]["accumulator"]) == "ap_fixed<28,12>"
    (tmp_path / "config.yaml").write_text("layers:\n  fc1: {weight: ap_fixed<10,2,AP_RND_CONV>, reuse: 3}\n")
    with pytest.raises(ValueError, match=r"unknown key 2 .*a type inside \{\.\.\.\} must be quoted"):
        read_config(tmp_path / "config.yaml")
