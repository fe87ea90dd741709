"""The command line under fuzzing, as a careless user and an attacker would drive it
(issue 17): mutated ONNX models, odd .npy inputs, `fxhls build` options and design.json
contents. Every outcome is one of: a clean one-line error with nothing written, or a run
whose result is right (equal to an independent reference, or to the unchanged input's
result when the change keeps the meaning). A traceback, an internal error, a wrong or
silent result, a second error line or a file left behind fails the test. Each test
counts its outcomes and prints them (`pytest -s`); README's Reliability section lists them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings

from fuzz_models import qonnx_mlp, qonnx_quant, qonnx_reference, same_structure, tiny_mlp, tiny_mlp_reference
from fuzz_mutations import build_options, design_cases, input_cases, model_cases, qonnx_quant_arguments

from fxhls.cli import main

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MODEL = tiny_mlp()
DEMO = Path(__file__).parents[1] / "examples" / "models" / "mnist_khot_cnn.onnx"
X = np.array([[0.0, -0.0, 0.5, -3.25, 7.999, 1 / 3], [1e9, -1e9, 0.0625, 3.0, -1.0, 2.5],
              [0.03125, -0.03125, 0.09375, 100.0, -100.0, 0.75]])


def run(argv: list[str], folder: Path, kept: set[str]) -> str:
    """Run `fxhls argv` in `folder`; returns "ran" or "refused" after checking what a refusal
    must be (one error line) and that `folder` holds nothing but `kept` and the run's output."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            status = main(argv)
        except SystemExit as exit_:  # argparse: usage line(s), then one error line
            status = exit_.code
    message = err.getvalue()
    assert status != 3, f"fxhls {' '.join(argv)}: {message}"
    assert status in (0, 2), f"exit {status}: {message}"
    left = {p.name for p in folder.iterdir()} - kept
    if status == 0:
        return "ran"
    lines = message.splitlines()
    usage = lines[:-1] and lines[0].startswith("usage:")  # argparse: its usage, then one error line
    assert lines and "error:" in lines[-1] and (usage or len(lines) == 1), message
    assert "Traceback" not in message and not any("error:" in line for line in lines[:-1]), message
    assert not left, f"a refused run left {left}: {message}"
    return "refused"


def _write(folder: Path, name: str, data: bytes) -> Path:
    (folder / name).write_bytes(data)
    return folder / name


@pytest.fixture(scope="module")
def baseline() -> np.ndarray:
    return tiny_mlp_reference(MODEL, X)


def test_mutated_models(baseline):
    counts = Counter()

    @settings(FUZZ, max_examples=500)
    @given(model_cases(MODEL))
    def check(case):
        with tempfile.TemporaryDirectory() as work:
            work = Path(work)
            model, x = _write(work, "m.onnx", case.data), work / "x.npy"
            np.save(x, X)
            outcome = run(["emulate", str(model), "--input", str(x), "--output", str(work / "y.npy")], work,
                          {"m.onnx", "x.npy", "y.npy"})
            counts[_model_verdict(case, outcome, work / "y.npy", baseline)] += 1

    check()
    print("mutated models:", dict(counts))
    assert counts["refused"] > 30 and counts["ran, equal to the reference"] > 10 and counts["ran, unchanged"] >= 4


def test_mutated_convolutional_model():
    """The demo CNN (Conv, MaxPool, K-hot weights) mutated: no reference model here, so a
    change that keeps the meaning must give the original's outputs, any other a clean refusal
    or outputs of the batch's length."""
    demo = onnx.load(DEMO)
    x = np.load(DEMO.with_name("mnist_khot_cnn_inputs.npy"))[:2]
    counts = Counter()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        np.save(work / "x.npy", x)
        assert main(["emulate", str(DEMO), "--input", str(work / "x.npy"), "--output", str(work / "y.npy")]) == 0
        baseline = np.load(work / "y.npy")

    @settings(FUZZ, max_examples=120)
    @given(model_cases(demo))
    def check(case):
        with tempfile.TemporaryDirectory() as work:
            work = Path(work)
            model = _write(work, "m.onnx", case.data)
            np.save(work / "x.npy", x)
            outcome = run(["emulate", str(model), "--input", str(work / "x.npy"), "--output", str(work / "y.npy")],
                          work, {"m.onnx", "x.npy", "y.npy"})
            counts[_model_verdict(case, outcome, work / "y.npy", baseline, None, len(x))] += 1

    check()
    print("mutated CNN:", dict(counts))
    assert counts["refused"] > 30 and counts["ran, unchanged"] >= 3 and counts["ran, another model"] > 5


def _model_verdict(case, outcome: str, output: Path, baseline: np.ndarray, reference=MODEL, batch=len(X)) -> str:
    try:
        proto = onnx.load_from_string(case.data)
        onnx.checker.check_model(proto)
    except Exception:  # not ONNX, or not valid ONNX: must be refused
        assert outcome == "refused", f"{case.name}: an invalid model ran"
        return "refused"
    if not any(node.op_type == "Quantize" for node in proto.graph.node):
        assert outcome == "refused", f"{case.name}: a model without a quantizer ran"
        return "refused"
    if case.neutral:
        assert outcome == "ran", f"{case.name}: a model with the same meaning was refused"
        assert np.array_equal(np.load(output), baseline, equal_nan=True), case.name
        return "ran, unchanged"
    if outcome == "refused":
        return "refused"
    y = np.load(output)
    if reference is not None and same_structure(proto, reference):
        try:
            expected = tiny_mlp_reference(proto, X)
        except (ValueError, KeyError):
            raise AssertionError(f"{case.name}: ran, but its quantizers spell no type") from None
        assert np.array_equal(y, expected, equal_nan=True), f"{case.name}: differs from the reference"
        return "ran, equal to the reference"
    assert y.shape[0] == batch, f"{case.name}: {y.shape[0]} outputs for {batch} inputs"
    return "ran, another model"


def test_odd_qonnx_quantizers():
    """A QONNX Quant with odd parameters runs only where qonnx's executor computes the same values."""
    counts = Counter()
    lsb = 2.0 ** -10
    x = (np.array([[0.5, 1.5, -0.5, -2.5], [0.0, -0.0, 3.75, 1e9], [-1e9, 0.1, -0.3, 7.0]]) * 1).astype(np.float32)
    x = np.concatenate([x[:2], (x[2:] + lsb / 2).astype(np.float32)])

    @settings(FUZZ, max_examples=100)
    @given(qonnx_quant_arguments())
    def check(arguments):
        model = qonnx_quant(**arguments)
        with tempfile.TemporaryDirectory() as work:
            work = Path(work)
            onnx.save(model, work / "m.onnx")
            np.save(work / "x.npy", x)
            outcome = run(["emulate", str(work / "m.onnx"), "--input", str(work / "x.npy"), "--output",
                           str(work / "y.npy")], work, {"m.onnx", "x.npy", "y.npy"})
            if outcome == "ran":
                try:
                    expected = qonnx_reference(model, x)
                except Exception as err:  # qonnx refuses it: fxhls must not have run it
                    raise AssertionError(f"{arguments}: ran, but qonnx cannot execute it ({err})") from None
                assert np.array_equal(np.load(work / "y.npy"), expected), f"{arguments}: differs from qonnx"
            counts[outcome] += 1

    check()
    print("QONNX quantizers:", dict(counts))
    assert counts["refused"] > 20 and counts["ran"] > 10


def test_mutated_qonnx_models():
    """A QONNX MLP mutated like the fxhls models: what fxhls runs, qonnx's executor must
    run too, with the same values."""
    model = qonnx_mlp()
    x = (np.random.default_rng(0).normal(size=(3, 4)) * 4).astype(np.float32)
    counts = Counter()

    @settings(FUZZ, max_examples=150)
    @given(model_cases(model))
    def check(case):
        with tempfile.TemporaryDirectory() as work:
            work = Path(work)
            path = _write(work, "m.onnx", case.data)
            np.save(work / "x.npy", x)
            outcome = run(["emulate", str(path), "--input", str(work / "x.npy"), "--output", str(work / "y.npy")],
                          work, {"m.onnx", "x.npy", "y.npy"})
            if outcome == "ran":
                try:
                    expected = qonnx_reference(onnx.load_from_string(case.data), x)
                except Exception as err:  # qonnx cannot execute it: fxhls must not have run it
                    raise AssertionError(f"{case.name}: ran, but qonnx cannot execute it ({err})") from None
                y = np.load(work / "y.npy")
                assert y.shape == expected.shape and np.array_equal(y, expected), f"{case.name}: differs from qonnx"
            counts[outcome] += 1

    check()
    print("mutated QONNX models:", dict(counts))
    assert counts["refused"] > 30 and counts["ran"] > 10


def test_odd_input_files():
    counts = Counter()
    with tempfile.TemporaryDirectory() as models:
        model = Path(models) / "m.onnx"
        onnx.save(MODEL, model)

        @FUZZ
        @given(input_cases())
        def check(drawn):
            case, values = drawn
            with tempfile.TemporaryDirectory() as work:
                work = Path(work)
                x = _write(work, "x.npy", case.data)
                outcome = run(["emulate", str(model), "--input", str(x), "--output", str(work / "y.npy")], work,
                              {"x.npy", "y.npy"})
                if values is None:
                    assert outcome == "refused", f"{case.name}: ran"
                else:
                    assert outcome == "ran", f"{case.name}: a valid batch was refused"
                    assert np.array_equal(np.load(work / "y.npy"), tiny_mlp_reference(MODEL, values),
                                          equal_nan=True), case.name
                counts[outcome] += 1

        check()
    print("input files:", dict(counts))
    assert counts["refused"] > 30 and counts["ran"] > 30


def test_build_options():
    counts = Counter()
    with tempfile.TemporaryDirectory() as models:
        model = Path(models) / "m.onnx"
        onnx.save(MODEL, model)

        @settings(FUZZ, max_examples=60)
        @given(build_options())
        def check(options):
            with tempfile.TemporaryDirectory() as work:
                work = Path(work)
                (work / "board.yaml").write_text("part: [unclosed\n")
                previous = os.getcwd()
                os.chdir(work)  # a relative --board resolves here
                try:
                    outcome = run(["build", str(model), "--out", str(work / "out"), *options], work,
                                  {"board.yaml", "out"})
                finally:
                    os.chdir(previous)
                if outcome == "ran":
                    design = json.loads((work / "out" / "design.json").read_text())
                    if "--clock-mhz" in options:
                        assert design["clock_mhz"] == float(options[options.index("--clock-mhz") + 1])
                counts[outcome] += 1

        check()
    print("build options:", dict(counts))
    assert counts["refused"] > 10 and counts["ran"] > 5


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz_build")
    onnx.save(MODEL, folder / "m.onnx")
    assert main(["build", str(folder / "m.onnx"), "--board", "ultra96v2", "--out", str(folder / "out")]) == 0
    return folder / "out"


def test_design_json_contents(build_dir, baseline):
    counts = Counter()
    design = json.loads((build_dir / "design.json").read_text())

    @settings(FUZZ, max_examples=120)
    @given(design_cases(design))
    def check(drawn):
        name, content, neutral = drawn
        with tempfile.TemporaryDirectory() as work:
            work = Path(work)
            folder = work / "out"
            shutil.copytree(build_dir, folder)
            text = json.dumps(content)
            (folder / "design.json").write_text(text)
            (folder / "deploy" / "design.json").write_text(text)
            np.save(work / "x.npy", X)
            kept = {"out", "x.npy", "y.npy"}
            csim = run(["csim", str(folder), "--input", str(work / "x.npy"), "--output", str(work / "y.npy")],
                       work, kept)
            package = run(["package", str(folder)], work, kept)
            if neutral:
                assert csim == package == "ran", f"{name}: refused"
            if csim == "ran":
                assert np.array_equal(np.load(work / "y.npy"), baseline), f"{name}: wrong C simulation"
            counts[csim] += 1
            counts[package] += 1

    check()
    print("design.json contents:", dict(counts))
    assert counts["refused"] > 30 and counts["ran"] > 5
