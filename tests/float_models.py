"""Float models as users bring them (no quantizer): a PyTorch MLP and CNN exported with
torch.onnx, and a hand-built onnx.helper graph, with inputs and the float reference."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator


def torch_models() -> dict:
    """name -> (torch module, sample shape): Gemm/Relu; Conv/Relu/MaxPool/Flatten/Gemm."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 10))
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(),
                        nn.Flatten(), nn.Linear(8 * 2 * 2, 10))
    return {"mlp": (mlp.eval(), (16,)), "cnn": (cnn.eval(), (1, 8, 8))}


def export_torch(module, shape, path, dynamo: bool = False) -> None:
    """`module` as float ONNX, as torch.onnx writes it (dynamic batch): the TorchScript
    exporter, or the torch.export-based one (`dynamo`, torch's default since 2.9)."""
    import torch

    if dynamo:
        torch.onnx.export(module, (torch.randn(2, *shape),), str(path), input_names=["x"], output_names=["y"],
                          dynamic_shapes=({0: torch.export.Dim("n")},), dynamo=True, verbose=False)
    else:
        torch.onnx.export(module, torch.randn(1, *shape), str(path), input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, dynamo=False)


def torch_float(module, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return module(torch.tensor(x, dtype=torch.float32)).double().numpy()


def hand_built(path) -> None:
    """Conv (named conv1) -> Relu -> Flatten -> MatMul + Add (fc1) -> Relu -> Gemm (fc2),
    float32 initializers, written with onnx.helper."""
    rng = np.random.default_rng(1)

    def init(name, *shape, scale=0.5):
        return numpy_helper.from_array((rng.normal(size=shape) * scale).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "conv1.w", "conv1.b"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Flatten", ["r1"], ["f1"], name="flatten"),
        helper.make_node("MatMul", ["f1", "fc1.w"], ["m1"], name="fc1"),
        helper.make_node("Add", ["m1", "fc1.b"], ["a1"], name="fc1_bias"),
        helper.make_node("Relu", ["a1"], ["r2"], name="relu2"),
        helper.make_node("Gemm", ["r2", "fc2.w", "fc2.b"], ["y"], name="fc2", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "hand_built", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 5])],
        [init("conv1.w", 3, 2, 3, 3), init("conv1.b", 3), init("fc1.w", 48, 12, scale=0.2), init("fc1.b", 12),
         init("fc2.w", 5, 12), init("fc2.b", 5)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def onnx_float(path, x: np.ndarray) -> np.ndarray:
    """The float model's outputs as onnx's reference evaluator computes them."""
    return ReferenceEvaluator(str(path)).run(None, {"x": x.astype(np.float32)})[0].astype(np.float64)


def top_class_agreement(y: np.ndarray, reference: np.ndarray) -> float:
    return float((y.argmax(axis=1) == reference.argmax(axis=1)).mean())


def torch_batchnorm_models() -> dict:
    """name -> (torch module, sample shape): float models with BatchNorm that the exporter
    keeps (a BatchNorm after a ReLU or on the input does not fold into a Conv/Linear):
    an MLP (BatchNorm1d on the input, after a ReLU and on the output) and a CNN
    (BatchNorm2d on the input and after a ReLU, BatchNorm1d after a Linear), with running
    statistics and affine parameters away from the identity."""
    import torch
    from torch import nn

    torch.manual_seed(4)
    mlp = nn.Sequential(nn.BatchNorm1d(16), nn.Linear(16, 32), nn.ReLU(), nn.BatchNorm1d(32), nn.Linear(32, 10),
                        nn.BatchNorm1d(10))
    cnn = nn.Sequential(nn.BatchNorm2d(2), nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(4),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 16), nn.BatchNorm1d(16), nn.ReLU(),
                        nn.Linear(16, 10))
    for module in (mlp, cnn):
        for layer in module.modules():
            if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
                layer.running_mean.uniform_(-1, 1)
                layer.running_var.uniform_(0.3, 3)
                layer.weight.data.uniform_(0.5, 2)
                layer.bias.data.uniform_(-0.5, 0.5)
    return {"mlp": (mlp.eval(), (16,)), "cnn": (cnn.eval(), (2, 8, 8))}
