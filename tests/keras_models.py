"""Float models as Keras exporters (tf2onnx, keras2onnx) write them, built with onnx.helper
(no TensorFlow here): channels-last (NHWC) inputs and tensors, each Conv and UpSampling2D
between a Transpose to channels-first and one back, Keras's LeakyReLU, PReLU (shared over
height and width), ZeroPadding2D, Dropout and Identity on channels-last tensors, Flatten as
a Reshape to (-1, H*W*C) of channels-last data, Dense as MatMul + Add; and a PyTorch CNN
with ZeroPad2d, LeakyReLU, Upsample and PReLU."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
NCHW, NHWC = [0, 3, 1, 2], [0, 2, 3, 1]
CNN_INPUT = (5, 5, 2)  # (H, W, C)


def keras_cnn(path, alpha: float = 0.125, coordinates: str = "asymmetric", slopes=None, seed: int = 1) -> None:
    """NHWC 5x5x2 -> Conv 3x3 (4, same) -> LeakyReLU(alpha) -> UpSampling2D(2) -> ZeroPadding2D(1)
    -> Conv 3x3 stride 2 (6, valid) -> PReLU (one slope per channel) -> Dropout -> Identity ->
    Flatten -> Dense(5). `coordinates`: the Resize's coordinate_transformation_mode (tf2onnx
    writes asymmetric, or tf_half_pixel_for_nn for half-pixel centers; nearest_mode floor)."""
    rng = np.random.default_rng(seed)
    slopes = [0.25, 0.1, -0.5, 0.75, 0.0625, 0.3] if slopes is None else slopes
    n = helper.make_node
    nodes = [
        n("Transpose", ["x"], ["x_nchw"], name="conv1/transpose_in", perm=NCHW),
        n("Conv", ["x_nchw", "conv1/kernel", "conv1/bias"], ["conv1_nchw"], name="conv1", pads=[1, 1, 1, 1]),
        n("Transpose", ["conv1_nchw"], ["conv1_out"], name="conv1/transpose_out", perm=NHWC),
        n("LeakyRelu", ["conv1_out"], ["leaky"], name="leaky_re_lu", alpha=alpha),
        n("Transpose", ["leaky"], ["leaky_nchw"], name="up_sampling2d/transpose_in", perm=NCHW),
        n("Resize", ["leaky_nchw", "", "up_sampling2d/scales"], ["up_nchw"], name="up_sampling2d", mode="nearest",
          coordinate_transformation_mode=coordinates, nearest_mode="floor"),
        n("Transpose", ["up_nchw"], ["up"], name="up_sampling2d/transpose_out", perm=NHWC),
        n("Pad", ["up", "zero_padding2d/pads"], ["padded"], name="zero_padding2d", mode="constant"),
        n("Transpose", ["padded"], ["padded_nchw"], name="conv2/transpose_in", perm=NCHW),
        n("Conv", ["padded_nchw", "conv2/kernel", "conv2/bias"], ["conv2_nchw"], name="conv2", strides=[2, 2]),
        n("Transpose", ["conv2_nchw"], ["conv2_out"], name="conv2/transpose_out", perm=NHWC),
        n("PRelu", ["conv2_out", "p_re_lu/alpha"], ["prelu"], name="p_re_lu"),
        n("Dropout", ["prelu"], ["dropped"], name="dropout"),
        n("Identity", ["dropped"], ["same"], name="identity"),
        n("Reshape", ["same", "flatten/shape"], ["flat"], name="flatten"),
        n("MatMul", ["flat", "dense/kernel"], ["dense_mm"], name="dense"),
        n("Add", ["dense_mm", "dense/bias"], ["y"], name="dense/bias_add"),
    ]
    inits = [_normal(rng, "conv1/kernel", (4, 2, 3, 3), 0.5), _normal(rng, "conv1/bias", (4,), 0.1),
             numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "up_sampling2d/scales"),
             numpy_helper.from_array(np.array([0, 1, 1, 0, 0, 1, 1, 0], np.int64), "zero_padding2d/pads"),
             _normal(rng, "conv2/kernel", (6, 4, 3, 3), 0.3), _normal(rng, "conv2/bias", (6,), 0.1),
             numpy_helper.from_array(np.array(slopes, np.float32).reshape(1, 1, 6), "p_re_lu/alpha"),
             numpy_helper.from_array(np.array([-1, 150], np.int64), "flatten/shape"),
             _normal(rng, "dense/kernel", (150, 5), 0.1), _normal(rng, "dense/bias", (5,), 0.1)]
    _save(path, nodes, inits, ["n", *CNN_INPUT], ["n", 5])


def keras_dense(path, seed: int = 2) -> None:
    """NHWC 3x4x2 -> Flatten (a Reshape of channels-last data: H, W, C order) -> Dense(8)
    (Gemm) -> LeakyReLU(0.3) -> Dense(3)."""
    rng = np.random.default_rng(seed)
    n = helper.make_node
    nodes = [n("Reshape", ["x", "flatten/shape"], ["flat"], name="flatten"),
             n("Gemm", ["flat", "dense/kernel", "dense/bias"], ["d1"], name="dense"),
             n("LeakyRelu", ["d1"], ["l1"], name="leaky_re_lu", alpha=0.3),
             n("MatMul", ["l1", "dense_1/kernel"], ["m2"], name="dense_1"),
             n("Add", ["m2", "dense_1/bias"], ["y"], name="dense_1/bias_add")]
    inits = [numpy_helper.from_array(np.array([-1, 24], np.int64), "flatten/shape"),
             _normal(rng, "dense/kernel", (24, 8), 0.3), _normal(rng, "dense/bias", (8,), 0.1),
             _normal(rng, "dense_1/kernel", (8, 3), 0.3), _normal(rng, "dense_1/bias", (3,), 0.1)]
    _save(path, nodes, inits, ["n", 3, 4, 2], ["n", 3])


def torch_cnn():
    """(module, sample shape): ZeroPad2d, Conv, LeakyReLU(0.1), Upsample (nearest, 2),
    Conv stride 2, PReLU per channel, Flatten, Linear."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    prelu = nn.PReLU(6)
    with torch.no_grad():
        prelu.weight.copy_(torch.tensor([0.25, 0.1, 0.3, -0.2, 0.5, 0.05]))
    module = nn.Sequential(nn.ZeroPad2d(1), nn.Conv2d(2, 4, 3), nn.LeakyReLU(0.1), nn.Upsample(scale_factor=2),
                           nn.Conv2d(4, 6, 3, stride=2, padding=1), prelu, nn.Flatten(), nn.Linear(6 * 5 * 5, 10))
    return module.eval(), (2, 5, 5)


def _normal(rng, name: str, shape, scale: float):
    return numpy_helper.from_array((rng.normal(size=shape) * scale).astype(np.float32), name)


def _save(path, nodes, inits, in_shape, out_shape) -> None:
    graph = helper.make_graph(nodes, "keras", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
