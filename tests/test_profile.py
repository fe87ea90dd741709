"""`fxhls profile`: its numbers against an independent computation (onnxruntime with every
intermediate tensor as an output, numpy, qonnx's executor), saturation and underflow
shares on inputs built to hit known fractions, the files of the command line, and hostile
node names in the SVG and the Markdown."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ElementTree

import numpy as np
import onnx
import onnxruntime
import pytest
from hypothesis import given, settings, strategies as st
from onnx import TensorProto, helper, numpy_helper

import fxhls
from float_models import export_torch, hand_built, torch_models
from fxhls.cli import main
from fxhls.escaping import markdown_text
from fxhls.fixed import FixedType

DEFAULT = FixedType.parse("ap_fixed<16,6>")
_SVG = "{http://www.w3.org/2000/svg}"


def onnxruntime_tensors(path, x: np.ndarray) -> dict:
    """Every tensor of the float model at `path` on `x`: onnxruntime with each node's output
    made a graph output, the initializers and the input."""
    proto = onnx.load(str(path))
    known = {value.name for value in proto.graph.output}
    for node in proto.graph.node:
        proto.graph.output.extend(helper.make_empty_tensor_value_info(name) for name in node.output
                                  if name not in known)
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {proto.graph.input[0].name: x.astype(np.float32)}
    tensors = dict(zip([output.name for output in session.get_outputs()], session.run(None, feed)))
    return {**{init.name: numpy_helper.to_array(init) for init in proto.graph.initializer}, **feed, **tensors}


def tensor_of(proto: onnx.ModelProto, row: dict) -> str:
    """The float model's tensor a row of the profile measures."""
    if row["kind"] == "input":
        return row["layer"]
    node = next(node for node in proto.graph.node if node.name == row["layer"])
    return {"weight": node.input[1], "bias": node.input[-1], "output": node.output[0]}[row["kind"]]


@pytest.fixture(scope="module")
def float_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("profile")
    rng = np.random.default_rng(3)
    models = {}
    for name, (module, shape) in torch_models().items():
        export_torch(module, shape, folder / f"{name}.onnx")
        models[name] = (folder / f"{name}.onnx", rng.normal(0, 2, (150, *shape)).astype(np.float32))
    return models


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_numbers_equal_onnxruntime_and_numpy(float_models, name):
    path, x = float_models[name]
    result = fxhls.profile(str(path), x, default_type=str(DEFAULT))
    tensors, proto = onnxruntime_tensors(path, x), onnx.load(str(path))
    assert [(row["layer"], row["kind"]) for row in result.rows][:4] == \
        [("x", "input"), (proto.graph.node[0].name, "weight"), (proto.graph.node[0].name, "bias"),
         (proto.graph.node[0].name, "output")]
    emulated = fxhls.emulate(str(path), x, default_type=str(DEFAULT))
    for row in result.rows:
        values = tensors[tensor_of(proto, row)].astype(np.float64).ravel()
        assert row["type"] == str(DEFAULT) and row["values"] == values.size
        assert row["min"] == pytest.approx(values.min(), rel=1e-5, abs=1e-6)
        assert row["max"] == pytest.approx(values.max(), rel=1e-5, abs=1e-6)
        assert row["percentile_abs"] == pytest.approx(np.percentile(np.abs(values), 99.9), rel=1e-5, abs=1e-6)
        assert (row["type_min"], row["type_max"], row["lsb"]) == (-32.0, 32 - 2.0 ** -10, 2.0 ** -10)
        assert row["saturated"] == ((values < -32) | (values > 32 - 2.0 ** -10)).mean()
        # AP_TRN floors: exactly the values in (0, lsb) become 0
        assert row["underflow"] == pytest.approx(((values > 0) & (values < 2.0 ** -10)).mean(), abs=1 / values.size)
        if row["kind"] in ("weight", "bias"):  # the cast of a constant is the whole error
            floored = np.floor(values * 2 ** 10) / 2 ** 10
            assert row["max_abs_error"] == np.abs(floored - values).max()
    output_row = next(row for row in reversed(result.rows) if row["kind"] == "output")
    reference = tensors["y"].astype(np.float64)
    assert output_row["max_abs_error"] == pytest.approx(np.abs(emulated - reference).max(), rel=1e-4)
    assert result.output["max_abs_error"] == pytest.approx(np.abs(emulated - reference).max(), rel=1e-4)
    agreement = (emulated.argmax(axis=1) == reference.argmax(axis=1)).mean()
    assert result.output["top_class_agreement"] == pytest.approx(agreement, abs=1 / len(x))
    assert result.output["samples"] == len(x)


def identity_model(path, features: int) -> None:
    """A float Gemm whose weight is the identity and bias zero: its output is its input."""
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="fc")], "identity",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", features])],
        [numpy_helper.from_array(np.eye(features, dtype=np.float32), "w"),
         numpy_helper.from_array(np.zeros(features, np.float32), "b")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


_TYPES = st.builds(lambda width, int_bits, signed, rounding, overflow:
                   FixedType(width, int_bits, signed, rounding, overflow),
                   st.integers(3, 12), st.integers(-2, 8), st.booleans(),
                   st.sampled_from(["AP_TRN", "AP_RND", "AP_RND_CONV", "AP_RND_ZERO", "AP_TRN_ZERO"]),
                   st.sampled_from(["AP_WRAP", "AP_SAT"]))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(t=_TYPES, above=st.integers(0, 40), below=st.integers(0, 40), tiny=st.integers(0, 40),
       inside=st.integers(1, 40), zeros=st.integers(0, 10), seed=st.integers(0, 2 ** 16))
def test_saturation_and_underflow_shares_of_built_inputs(tmp_path_factory, t, above, below, tiny, inside, zeros,
                                                        seed):
    """Inputs built from counts: `above`/`below` values past the type's ends, `tiny` in
    (0, lsb/4) (cast to 0 by every rounding mode), `inside` nonzero multiples of lsb in
    range, `zeros` zeros: the input row's shares are those counts over the total."""
    rng = np.random.default_rng(seed)
    below = below if t.signed else 0  # an unsigned type's low end is 0: nothing is below it but negatives
    codes = rng.integers(t.min_code, t.max_code + 1, inside)
    codes[codes == 0] = 1
    values = np.concatenate([t.max + t.lsb * rng.integers(1, 9, above), t.min - t.lsb * rng.integers(1, 9, below),
                             t.lsb * rng.uniform(0.01, 0.24, tiny), codes * t.lsb, np.zeros(zeros)])
    total = values.size
    x = rng.permutation(values).reshape(total, 1)
    path = tmp_path_factory.mktemp("identity") / "identity.onnx"
    identity_model(path, 1)
    result = fxhls.profile(str(path), x, input_type=str(t), default_type="ap_fixed<24,12>")
    row = result.rows[0]
    assert (row["kind"], row["type"]) == ("input", str(t))
    assert row["saturated"] == (above + below) / total
    assert row["underflow"] == tiny / total
    output = next(row for row in result.rows if row["kind"] == "output")
    assert output["saturated"] == 0 and output["values"] == total


def test_int_bits_needed_holds_the_percentile():
    from fxhls.profiling.measure import int_bits_needed

    for t in (DEFAULT, FixedType(8, 3, False), FixedType(12, -2)):
        for magnitude in (1e-4, 0.3, 1.0, 5.0, 31.999, 1000.0):
            bits = int_bits_needed(magnitude, t)
            fits = FixedType(bits + t.frac_bits, bits, t.signed)
            assert fits.max >= magnitude
            if bits + t.frac_bits > 1:
                assert FixedType(bits - 1 + t.frac_bits, bits - 1, t.signed).max < magnitude


def test_typed_qonnx_model_shows_its_own_types(tmp_path):
    """A Brevitas QONNX model: each row's type is its quantizer's, the values it receives equal
    qonnx's executor's there (float32 against the emulator's exact sums), and there is no float
    comparison."""
    pytest.importorskip("brevitas")
    from brevitas_models import exported
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes

    path, x = exported("mlp_int8", tmp_path)
    result = fxhls.profile(str(path), x)
    assert result.output is None and all(row["max_abs_error"] is None for row in result.rows)
    model = ModelWrapper(str(path)).transform(InferShapes())  # the export's batch is len(x)
    context = execute_onnx(model, {model.graph.input[0].name: x.astype(np.float32)}, return_full_exec_context=True)
    quants = [node for node in model.graph.node if node.op_type == "Quant"]
    outputs = [row for row in result.rows if row["kind"] == "output"]
    assert outputs and len(result.rows) == len(quants)
    for row in outputs:
        node = next(node for node in model.graph.node if node.name == row["layer"])
        quant = next(q for q in quants if q.input[0] == node.output[0])
        values = context[node.output[0]].astype(np.float64).ravel()
        scale, bits = float(context[quant.input[1]]), int(context[quant.input[3]])
        t = FixedType.parse(row["type"])
        assert t.lsb == scale and t.width == bits
        assert row["min"] == pytest.approx(values.min(), rel=1e-6)
        assert row["max"] == pytest.approx(values.max(), rel=1e-6)
        assert row["saturated"] == ((values < t.min) | (values > t.max)).mean()


def test_command_writes_table_csv_and_svg(float_models, tmp_path, capsys):
    path, x = float_models["cnn"]
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "profile"
    assert main(["profile", str(path), "--input", str(tmp_path / "x.npy"), "--default-type", "ap_fixed<8,3>",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    expected = fxhls.profile(str(path), x, default_type="ap_fixed<8,3>")
    assert printed[0].split()[:4] == ["layer", "kind", "type", "float"]
    assert len(printed) == 1 + len(expected.rows) + 1 + 3 and printed[-3:] == [
        f"wrote {out / name}" for name in ("profile.md", "profile.csv", "profile.svg")]
    assert "top class equal to float on" in printed[-4]
    with open(out / "profile.csv") as file:
        rows = list(csv.DictReader(file))
    assert [(row["layer"], row["kind"], row["type"]) for row in rows] == \
        [(row["layer"], row["kind"], row["type"]) for row in expected.rows]
    assert [float(row["saturated"]) for row in rows] == [row["saturated"] for row in expected.rows]
    assert any(row["saturated"] > 0 for row in expected.rows)  # ap_fixed<8,3> is too narrow for these inputs
    svg = ElementTree.parse(out / "profile.svg").getroot()
    labels = [text.text for text in svg.iter(f"{_SVG}text") if text.get("text-anchor") == "end"]
    assert labels == [f"{row['layer']} ({row['kind']})" for row in expected.rows]
    boxes = [rect for rect in svg.iter(f"{_SVG}rect") if rect.get("stroke")]
    assert [box.get("fill") == "#d9534f" for box in boxes] == [row["saturated"] > 0 for row in expected.rows]
    markdown = (out / "profile.md").read_text()
    assert markdown.count("\n| ") == 1 + len(expected.rows)


def test_hostile_node_names_are_escaped(tmp_path):
    from test_hostile_names import combined, payloads

    proto_path = tmp_path / "plain.onnx"
    hand_built(proto_path)
    proto = onnx.load(str(proto_path))
    names = [f"{index}{name}" for index, name in enumerate(payloads("canary")[:len(proto.graph.node) - 1])]
    names.append(combined("canary"))
    for node, name in zip(proto.graph.node, names):
        node.name = name
    onnx.save(proto, str(tmp_path / "hostile.onnx"))
    x = np.random.default_rng(0).normal(size=(20, 2, 4, 4)).astype(np.float32)
    result = fxhls.profile(str(tmp_path / "hostile.onnx"), x, default_type="ap_fixed<16,6>", out=tmp_path / "out")
    layers = {row["layer"] for row in result.rows}
    assert layers >= {names[0], names[3], names[6]}  # conv1, fc1 (MatMul), fc2 (Gemm)
    svg = ElementTree.parse(tmp_path / "out" / "profile.svg").getroot()  # well-formed: names are escaped
    shown = [text.text for text in svg.iter(f"{_SVG}text") if text.get("text-anchor") == "end"]
    assert shown[1] == f"{names[0]} (weight)"[:37] + "..." or shown[1] == f"{names[0]} (weight)"
    markdown = (tmp_path / "out" / "profile.md").read_text()
    table = [line for line in markdown.splitlines() if line.startswith("| ")][1:]
    assert len(table) == len(result.rows)  # no name broke a line or a cell
    for row in result.rows:
        assert f"| {markdown_text(row['layer'])} | {row['kind']} |" in markdown


def test_bad_inputs_are_refused_in_one_line(float_models, tmp_path, capsys):
    path, x = float_models["mlp"]
    np.save(tmp_path / "wrong.npy", np.zeros((3, 5), np.float32))
    cases = [
        ([str(path), "--input", str(tmp_path / "wrong.npy"), "--default-type", "ap_fixed<16,6>"],
         "inputs must be a batch of shape (batch, 16), got (3, 5)"),
        ([str(path), "--input", str(tmp_path / "missing.npy"), "--default-type", "ap_fixed<16,6>"],
         f"--input {tmp_path / 'missing.npy'}: no such file"),
        ([str(tmp_path / "missing.onnx"), "--input", str(tmp_path / "wrong.npy"), "--default-type", "ap_fixed<16,6>"],
         "missing.onnx: no such file"),
        ([str(path), "--input", str(tmp_path / "wrong.npy")], "a float model (no quantizer between its input"),
    ]
    for argv, message in cases:
        assert main(["profile", *argv, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
