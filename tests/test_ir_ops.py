"""IR ops and passes, each alone on small hand-built graphs."""

from __future__ import annotations

import numpy as np

from fxhls.fixed import FixedType, quantize, result_type
from fxhls.ir import Graph, Node, Tensor, execute, infer_types
from fxhls.ir.ops.quantize import type_attrs
from fxhls.qfx import QLinear

INT8 = FixedType.parse("ap_fixed<8,3>")


def _graph(op, attrs, constants=(), input_shape=(4,), input_type=INT8):
    tensors = {"x": Tensor("x", input_shape, input_type), "y": Tensor("y")}
    for name, (data, t) in constants:
        tensors[name] = Tensor(name, tuple(data.shape), t, data)
    node = Node(op, "n", ["x", *(name for name, _ in constants)], ["y"], attrs)
    return infer_types(Graph([node], tensors, ["x"], ["y"]))


def test_quantize_takes_its_type_from_its_attributes():
    t = FixedType.parse("ap_ufixed<6,2,AP_RND,AP_SAT_ZERO>")
    graph = _graph("Quantize", type_attrs(t))
    assert graph.tensor("y").type == t and graph.tensor("y").shape == (4,)
    x = np.broadcast_to(np.linspace(-5, 5, 41).reshape(-1, 1), (41, 4))
    assert np.array_equal(execute(graph, x)[0], quantize(x, t))


def test_gemm_infers_the_exact_accumulator_qlinear_uses():
    layer = QLinear(4, 3)
    layer.input_type = INT8
    w, b = np.zeros((3, 4)), np.zeros(3)
    graph = _graph("Gemm", {}, [("w", (w, layer.weight_type)), ("b", (b, layer.bias_type))])
    assert graph.tensor("y").type == layer.acc_type and graph.tensor("y").shape == (3,)


def test_a_narrowed_gemm_accumulates_bias_first_then_features_in_order():
    acc = FixedType.parse("ap_fixed<4,2,AP_TRN,AP_SAT>")  # saturates at 1.75: order matters
    w = np.array([[1.0, 1.0, -1.0]])
    b = np.array([1.0])
    graph = _graph("Gemm", {"acc_type": str(acc)}, [("w", (w, INT8)), ("b", (b, INT8))], input_shape=(3,))
    x = np.array([[1.0, 1.0, 1.0]])
    # s = 1; s += 1 -> 1.75 (saturated); s += 1 -> 1.75; s -= 1 -> 0.75
    assert execute(graph, x)[0].tolist() == [[0.75]]
    assert graph.tensor("y").type == acc


def test_sign_maps_zero_to_plus_one():
    graph = _graph("Sign", {})
    x = np.array([[-0.5, 0.0, 0.25, -3.0]])
    assert execute(graph, x)[0].tolist() == [[-1.0, 1.0, 1.0, -1.0]]
    assert graph.tensor("y").type == FixedType(2, 2)


def test_add_and_mul_types_are_the_exact_result_types():
    for op, kind in (("Add", "add"), ("Mul", "mul")):
        c = np.full(4, 0.5)
        graph = _graph(op, {}, [("c", (c, FixedType.parse("ap_ufixed<4,1>")))])
        assert graph.tensor("y").type == result_type(kind, INT8, FixedType.parse("ap_ufixed<4,1>"))


def test_average_pool_multiplies_the_window_sum_by_the_rounded_reciprocal():
    t = FixedType.parse("ap_ufixed<4,0,AP_RND_CONV,AP_SAT>")  # 1/9 rounds to 2/16
    graph = _graph("AveragePool", {"kernel_shape": [3, 3], "strides": [3, 3], "reciprocal_type": str(t)},
                   input_shape=(1, 3, 3))
    x = np.ones((1, 1, 3, 3))
    assert execute(graph, x)[0].item() == 9 * 0.125
    assert graph.tensor("y").shape == (1, 1, 1)


def test_a_large_batch_runs_in_slices_with_the_same_bits(monkeypatch):
    from pathlib import Path

    import importlib

    execute_module = importlib.import_module("fxhls.ir.execute")
    from fxhls.onnx import load_onnx

    graph = load_onnx(Path(__file__).resolve().parents[1] / "examples" / "models" / "mnist_khot_cnn.onnx")
    x = np.random.default_rng(0).random((100, 1, 28, 28))
    slices = []
    whole_run = execute_module._execute
    monkeypatch.setattr(execute_module, "_execute", lambda g, batch: slices.append(len(batch)) or whole_run(g, batch))
    whole = execute(graph, x)[0]
    assert slices == [100]
    monkeypatch.setattr(execute_module, "CHUNK_VALUES", 8 * 28 * 28 * 7)  # the first conv's output, 7 samples
    sliced = execute(graph, x)[0]
    step = slices[1]
    assert 1 < step <= 7 and slices[1:] == [step] * (100 // step) + [100 % step] * (100 % step > 0)
    assert sliced.shape == whole.shape == (100, 10) and int((sliced != whole).sum()) == 0
