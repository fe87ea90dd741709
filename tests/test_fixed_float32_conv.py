"""The host's float32 Conv (`fxhls.fixed.float32.onnxruntime_conv`) equals onnxruntime's CPU
Conv with `==`, as qonnx's executor runs it (the weights an input of a one-node model), on
random shapes: kernels 1x1 to 7x7, pads, strides, a bias or none, 1 to 130 filters, K up
to 16 * 7 * 7 (several K blocks), but for an output of one or two positions only a K that
is a multiple of 8 (README: the order of such a K's tail there is not reproduced). One
thread for a batch of one (README: several threads split one image's output positions,
and each part picks its own K block); for a batch of more, onnxruntime's threads take
whole images, so its default threads too."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from fxhls.fixed.float32 import chain_shape, onnxruntime_conv


def _onnxruntime_conv(x, weights, bias, pads, strides, threads: int) -> np.ndarray:
    feeds = {"x": x, "w": weights, **({"b": bias} if bias is not None else {})}
    node = helper.make_node("Conv", list(feeds), ["y"], pads=pads, strides=strides)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape)
                                            for k, v in feeds.items()],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # 0: onnxruntime's default, as qonnx's executor runs
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_the_host_conv_equals_onnxruntime(data):
    batch = data.draw(st.sampled_from([1, 1, 2, 3]), "batch")
    channels = data.draw(st.sampled_from([1, 2, 3, 4, 8, 16]), "C")
    filters = data.draw(st.sampled_from([1, 2, 5, 8, 16, 64, 130]), "M")
    kernel = data.draw(st.sampled_from([1, 3, 5, 7]), "kernel")
    height, width = data.draw(st.integers(kernel, 19), "H"), data.draw(st.integers(kernel, 19), "W")
    pads = data.draw(st.lists(st.integers(0, kernel // 2), min_size=4, max_size=4), "pads")
    strides = data.draw(st.lists(st.sampled_from([1, 1, 2]), min_size=2, max_size=2), "strides")
    positions = np.prod(chain_shape({"conv": {"weights": np.zeros((1, channels, kernel, kernel)), "pads": pads,
                                              "strides": strides}}, (channels, height, width))[1:])
    # README: onnxruntime's kernel for one or two output positions sums a K tail (K not a
    # multiple of 8) in an order not reproduced yet
    assume(positions > 2 or channels * kernel * kernel % 8 == 0)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), "seed"))
    x = (rng.normal(size=(batch, channels, height, width)) * rng.uniform(0.1, 3)).astype(np.float32)
    weights = (rng.integers(-15, 16, (filters, channels, kernel, kernel)) * np.float32(rng.uniform(1e-3, 1)))
    weights = weights.astype(np.float32)
    bias = rng.normal(size=filters).astype(np.float32) if data.draw(st.booleans(), "bias") else None
    ours = onnxruntime_conv(x, weights, bias, pads, strides)
    assert ours.shape[1:] == chain_shape({"conv": {"weights": weights, "pads": pads, "strides": strides}},
                                         x.shape[1:])
    for threads in (1, 0) if batch > 1 else (1,):
        expected = _onnxruntime_conv(x, weights, bias, pads, strides, threads)
        assert ours.shape == expected.shape
        assert int((ours != expected).sum()) == 0


def test_the_exact_sum_rounded_once_is_not_onnxruntime_s_conv():
    """The order matters: on these shapes most of the exact sums rounded once differ."""
    rng = np.random.default_rng(5)
    x, weights = rng.normal(size=(2, 16, 12, 12)).astype(np.float32), rng.normal(size=(8, 16, 5, 5)).astype(np.float32)
    expected = _onnxruntime_conv(x, weights, None, [2] * 4, [1, 1], threads=1)
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (2, 2), (2, 2)))
    exact = sum(np.einsum("mc,bchw->bmhw", weights[:, :, i, j].astype(np.float64), padded[:, :, i:i + 12, j:j + 12])
                for i in range(5) for j in range(5))  # float64: within 2^-45 of the exact sums
    assert int((onnxruntime_conv(x, weights, None, [2] * 4, [1, 1]) != expected).sum()) == 0
    assert int((exact.astype(np.float32) != expected).sum()) > expected.size // 4
