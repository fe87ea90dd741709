"""The published QONNX MLPs of this field, as lookalikes (`field_mlp_models`): every
quantized tensor `fxhls emulate` computes equals qonnx's executor with `==`, and the C
simulation, the RTL co-simulation and the deploy driver (simulation target) equal the
emulator on float inputs as a user has them.

- KWS MLP w3a3 (FINN-examples): per-channel learned weight scales behind Brevitas's
  Quant -> Transpose, BatchNorm, constant 1/7 activation scales; its last layer is float
  work on the host, compared with the per-op reference (exact sums rounded once).
- UNSW-NB15 MLP w2a2 (FINN's cybersecurity tutorial): a BIPOLAR-annotated input, (x + 1) / 2
  on it before the first layer, Brevitas's default float scales at 2 bits, a BipolarQuant
  output.
- hls4ml's QKeras jet tagger as qonnx's `from_keras` writes it: power-of-two quantizers,
  a float input the first MatMul reads (the host head computes that layer in float32 as
  onnxruntime does, up to its quantized_relu), a Softmax at the end (fxhls's fixed-point
  Softmax in hardware); with `--input-type ap_fixed<16,6>` (hls4ml's input precision) the
  first layer is hardware on inputs of that grid instead.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.change_batchsize import ChangeBatchSize
from qonnx.transformation.infer_shapes import InferShapes

from field_mlp_models import JET_TAGGER_SHAPE, kws_mlp_w3a3, qkeras_jet_tagger, unsw_nb15_mlp_w2a2
from fxhls.emulation import emulate
from fxhls.fixed.float32 import rescale
from fxhls.ir import execute
from fxhls.onnx import load_onnx

SAMPLES = 16
JET_INPUT_TYPE = "ap_fixed<16,6>"


def _jet_tagger(path, samples: int) -> np.ndarray:
    onnx.save(qkeras_jet_tagger(), path)
    return (np.random.default_rng(3).normal(size=(samples, *JET_TAGGER_SHAPE)) * 1.5).astype(np.float32)


MODELS = {"kws_mlp_w3a3": (kws_mlp_w3a3, {}), "unsw_nb15_mlp_w2a2": (unsw_nb15_mlp_w2a2, {}),
          "qkeras_jet_tagger": (_jet_tagger, {})}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> (model path, float inputs, load options): each model exported once."""
    folder = tmp_path_factory.mktemp("field_mlps")
    return {name: (folder / f"{name}.onnx", export(folder / f"{name}.onnx", SAMPLES), options)
            for name, (export, options) in MODELS.items()}


def _qonnx_context(path, x: np.ndarray) -> dict:
    """qonnx's executor on the file as exported (its batch size that of `x`, shapes inferred,
    names kept), every tensor."""
    model = ModelWrapper(str(path)).transform(ChangeBatchSize(len(x))).transform(InferShapes())
    return execute_onnx(model, {model.graph.input[0].name: x}, return_full_exec_context=True)


def _quantized_values(path, x: np.ndarray, options: dict) -> tuple[dict, dict]:
    """The float32 values of every activation quantizer's output (a Quant or BipolarQuant of
    a value computed at run time): fxhls's (its codes' s * (q - z), or its fixed-point
    values) and qonnx's."""
    proto = onnx.load(str(path))
    constants = {init.name for init in proto.graph.initializer}
    names = [node.output[0] for node in proto.graph.node
             if node.op_type in ("Quant", "BipolarQuant") and node.input[0] not in constants
             and not node.input[0].endswith((".weight", ".bias"))]
    graph = load_onnx(path, **options)
    kept = [name for name in names if name in graph.tensors]
    graph.outputs = kept
    ours = {}
    for name, value in zip(kept, execute(graph, x)):
        facts = graph.tensor(name).facts
        ours[name] = rescale(value, {"zero": facts["zero_point"][None], "scales": [facts["scale"][None]]},
                             channel_axis=1) if "scale" in facts else value
    reference = _qonnx_context(path, x)
    return ours, {name: reference[name] for name in kept}


@pytest.mark.parametrize("name", MODELS)
def test_every_quantized_tensor_equals_qonnx(name, exported):
    path, x, options = exported[name]
    ours, theirs = _quantized_values(path, x, options)
    layers = {"kws_mlp_w3a3": 4, "unsw_nb15_mlp_w2a2": 4, "qkeras_jet_tagger": 3}[name]
    assert len(ours) >= layers
    differing = sum(int((ours[key] != theirs[key]).sum()) for key in ours)
    assert differing == 0
    assert all(len(np.unique(theirs[key])) > 1 for key in ours)


def test_kws_float_output_equals_qonnx(exported):
    """Its last QuantLinear is float work on the host, summed in onnxruntime's order."""
    path, x, _ = exported["kws_mlp_w3a3"]
    expected = _qonnx_context(path, x)[onnx.load(str(path)).graph.output[0].name]
    assert len(np.unique(expected)) > 16
    assert int((emulate(path, x) != expected).sum()) == 0


def test_unsw_bipolar_output_and_qkeras_logits_equal_qonnx(exported):
    path, x, _ = exported["unsw_nb15_mlp_w2a2"]
    output = _qonnx_context(path, x)[onnx.load(str(path)).graph.output[0].name]
    assert set(np.unique(output)) == {-1.0, 1.0}
    assert int((emulate(path, x) != output).sum()) == 0
    path, x, _ = exported["qkeras_jet_tagger"]
    logits = _qonnx_context(path, x)["Add_3_out0"]
    graph = load_onnx(path)
    assert "dense" in next(node for node in graph.nodes if node.op == "HostQuantize").attrs["chain"]
    graph.outputs = ["Add_3_out0"]
    assert int((execute(graph, x)[0] != logits).sum()) == 0


def test_the_qkeras_first_layer_in_hardware_with_input_type(exported):
    """--input-type puts the first layer in hardware, hls4ml-style: the input is quantized
    to that type first (another model than the QONNX file), equal to qonnx on inputs of its grid."""
    path, x, _ = exported["qkeras_jet_tagger"]
    x = np.round(x * 2**10).astype(np.float32) / 2**10
    graph = load_onnx(path, input_type=JET_INPUT_TYPE)
    assert "HostQuantize" not in [node.op for node in graph.nodes]
    graph.outputs = ["Add_3_out0"]
    assert int((execute(graph, x)[0] != _qonnx_context(path, x)["Add_3_out0"]).sum()) == 0


# --- the hardware: C simulation, RTL co-simulation and the driver equal the emulator --------

@pytest.fixture(scope="module")
def built(exported, tmp_path_factory):
    """name -> (build folder, float inputs, the emulator's outputs)."""
    from fxhls.hls.build import build_project
    from fxhls.model_config import model_config

    result = {}
    for name, (path, x, options) in exported.items():
        types = model_config(None, options["input_type"], None) if options else None
        out, _ = build_project(path, "ultra96v2", tmp_path_factory.mktemp(name) / "build", types=types)
        result[name] = (out, x, emulate(path, x, **options))
    return result


@pytest.mark.parametrize("name", MODELS)
def test_csim_equals_emulate(name, built):
    from fxhls.sim.csim import run_csim

    out, x, expected = built[name]
    assert len(np.unique(expected)) > 1
    assert int((run_csim(out, x) != expected).sum()) == 0


@pytest.mark.parametrize("name", MODELS)
def test_the_deploy_driver_equals_emulate(name, built, monkeypatch):
    from deploy_designs import load_driver
    from fxhls.sim.csim import compile_csim

    out, x, expected = built[name]
    monkeypatch.setenv("FXHLS_TARGET", "sim")
    monkeypatch.setenv("FXHLS_SIM_COMMAND", str(compile_csim(out)))
    assert int((load_driver(out / "deploy").Accelerator().run_model(x) != expected).sum()) == 0


@pytest.mark.parametrize("name", MODELS)
def test_rtl_cosim_equals_emulate(name, built):
    from fxhls.sim.rtl_cosim import cosim_design

    out, x, expected = built[name]
    y, _ = cosim_design(out, x[:4])
    assert y.shape == expected[:4].shape
    assert int((y != expected[:4]).sum()) == 0


# --- the mechanisms on their own ------------------------------------------------------------

def _typed_input_model(datatype: str) -> onnx.ModelProto:
    """x (annotated `datatype`) -> (x + 1) / 2 -> MatMul with 3 * 2^-6 weights -> Quant (0.37, 5 bits)."""
    rng = np.random.default_rng(11)
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in
             [("one", 1.0), ("two", 2.0), ("w", rng.normal(size=(8, 6))), ("ws", 3 * 2.0**-6), ("z", 0.0),
              ("wb", 4.0), ("ys", 0.37), ("yb", 5.0)]]
    q = "qonnx.custom_op.general"
    nodes = [helper.make_node("Add", ["x", "one"], ["a"]), helper.make_node("Div", ["a", "two"], ["d"]),
             helper.make_node("Quant", ["w", "ws", "z", "wb"], ["wq"], domain=q, signed=1, narrow=1,
                              rounding_mode="ROUND"),
             helper.make_node("MatMul", ["d", "wq"], ["m"]),
             helper.make_node("Quant", ["m", "ys", "z", "yb"], ["y"], domain=q, signed=1, narrow=0,
                              rounding_mode="ROUND")]
    graph = helper.make_graph(nodes, "typed", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 6])], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(q, 1)])
    model = ModelWrapper(proto)
    from qonnx.core.datatype import DataType

    model.set_tensor_datatype("x", DataType[datatype])
    return model.model


@pytest.mark.parametrize("datatype", ["BIPOLAR", "BINARY", "TERNARY", "INT4", "UINT3"])
def test_an_input_of_a_qonnx_datatype_is_codes_of_it(datatype, tmp_path):
    """Its float work before the first layer is read exactly as the codes of its grid."""
    from qonnx.core.datatype import DataType

    proto = _typed_input_model(datatype)
    onnx.save(proto, tmp_path / "m.onnx")
    t = DataType[datatype]
    values = np.array([-1.0, 1.0]) if datatype == "BIPOLAR" else np.arange(t.min(), t.max() + 1)
    x = np.random.default_rng(12).choice(values, size=(4, 8)).astype(np.float32)
    expected = _qonnx_context(tmp_path / "m.onnx", x)["y"]
    assert len(np.unique(expected)) > 4
    assert int((emulate(tmp_path / "m.onnx", x) != expected).sum()) == 0


def test_refusals_of_a_float_input(tmp_path):
    proto = qkeras_jet_tagger()
    next(node for node in proto.graph.node if node.name == "MatMul_1").input[0] = "Add_0_out0"  # no Quant between
    onnx.save(proto, tmp_path / "two_layers.onnx")
    with pytest.raises(ValueError, match=r"^node 'MatMul_1' \(MatMul\): its input 'Add_0_out0' is float work of "
                                         r"another layer on the model's float input; the host computes one layer"):
        load_onnx(tmp_path / "two_layers.onnx")
    onnx.save(_jet_tagger_quantizing_its_input(), tmp_path / "quantized_input.onnx")
    with pytest.raises(ValueError, match=r"input 'global_in' is quantized by node 'input_quant' already; "
                                         r"--input-type is for a quantized model's float input"):
        load_onnx(tmp_path / "quantized_input.onnx", input_type=JET_INPUT_TYPE)


def test_a_softmax_after_float_work_is_refused_in_one_line(tmp_path):
    """A Softmax after a last layer that is float work (its input quantized with a float
    scale): no fixed-point shape to read."""
    onnx.save(_jet_tagger_quantizing_its_input(), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match=r"^node 'Softmax_0' \(Softmax\): its input is 'Add_3_out0' \(float work"):
        load_onnx(tmp_path / "m.onnx")


def _jet_tagger_quantizing_its_input() -> onnx.ModelProto:
    proto = qkeras_jet_tagger()
    for node in proto.graph.node:
        node.input[:] = ["global_in_q" if name == "global_in" else name for name in node.input]
    q = "qonnx.custom_op.general"
    proto.graph.node.insert(0, helper.make_node("Quant", ["global_in", "s", "z", "b"], ["global_in_q"],
                                                name="input_quant", domain=q, signed=1, narrow=0,
                                                rounding_mode="ROUND"))
    proto.graph.initializer.extend(numpy_helper.from_array(np.asarray(v, np.float32), k)
                                   for k, v in (("s", 0.037), ("z", 0.0), ("b", 8.0)))
    return proto
