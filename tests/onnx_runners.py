"""Running an exported model outside fxhls: onnxruntime and qonnx's executor, on a batch."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto


def run_onnxruntime(proto: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """The model's output on `x` (given in the input's float type), as float64."""
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    wanted = np.float32 if proto.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT else np.float64
    (y,) = session.run(None, {proto.graph.input[0].name: x.astype(wanted)})
    return y.astype(np.float64)


def run_qonnx(path, x: np.ndarray) -> np.ndarray:
    """qonnx's executor on the file at `path`, as float64."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    model = ModelWrapper(str(path))
    for value in [*model.graph.input, *model.graph.output]:  # qonnx's executor wants the batch size
        value.type.tensor_type.shape.dim[0].dim_value = len(x)
    wanted = np.float32 if model.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT else np.float64
    result = execute_onnx(model, {model.graph.input[0].name: x.astype(wanted)})
    return result[model.graph.output[0].name].astype(np.float64)
