"""Every quantized tensor of a QONNX model, fxhls's emulator against qonnx's executor.

qonnx runs the file as written (its shapes inferred, its computed constants folded, no
renaming) with `return_full_exec_context`, so every ONNX tensor's float32 value is at
hand. For each IR tensor of the same name that holds codes: a float-scaled one (facts
"scale", "zero_point"; integer codes, not an average of them) is compared as codes, qonnx's value v read back as round(v / s)
(exact: v = fl32(s * k) for an integer k of at most 23 bits); a fixed-point one as its
values. Counts with ==, no tolerance; where some differ, says how many of the first
differing tensor's codes are not at a float32 tie of its quantizer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fxhls.ir import execute
from fxhls.onnx import load_onnx


@dataclass
class Compared:
    tensors: int  # quantized tensors compared
    values: int  # their values, over the batch
    mismatches: dict  # tensor name -> differing values (only those with any), in graph order
    last: str  # the last quantized tensor compared (the one nearest the output)
    first_off_tie: int = 0  # differing codes of the first differing tensor not at a float32 tie (below)


def qonnx_context(path, x: np.ndarray) -> dict:
    """Every tensor's value when qonnx's executor runs the file at `path` on `x` (of the
    batch size the file was exported with)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.fold_constants import FoldConstants
    from qonnx.transformation.infer_shapes import InferShapes

    wrapper = ModelWrapper(str(path))
    wrapper = wrapper.transform(InferShapes()).transform(FoldConstants(exclude_op_types=["Quant", "Trunc",
                                                                                          "BipolarQuant"]))
    return execute_onnx(wrapper, {wrapper.graph.input[0].name: x.astype(np.float32)}, return_full_exec_context=True)


def compare_quantized(path, x: np.ndarray, graph=None) -> Compared:
    """fxhls's codes of every quantized tensor of the model at `path` against qonnx's."""
    graph = graph if graph is not None else load_onnx(path)
    context = qonnx_context(path, x)
    names = [name for name, tensor in graph.tensors.items()
             if name in context and tensor.data is None and tensor.type is not None and name != graph.inputs[0]
             and not ("scale" in tensor.facts and tensor.type.frac_bits > 0)]
    got = dict(zip(names, execute(replace(graph, outputs=names), x)))
    mismatches, values, first_off_tie = {}, 0, 0
    for name in names:
        facts = graph.tensors[name].facts
        expected = context[name].astype(np.float64).reshape(got[name].shape)
        if "scale" in facts:
            scale = np.asarray(facts["scale"], dtype=np.float64)
            expected = np.round(expected / scale) + np.asarray(facts["zero_point"], dtype=np.float64)
        differ = int((got[name] != expected).sum())
        values += expected.size
        if differ and not mismatches:
            first_off_tie = _off_ties(path, context, name, got[name] != expected, facts)
        if differ:
            mismatches[name] = differ
    return Compared(len(names), values, mismatches, names[-1] if names else "", first_off_tie)


def _off_ties(path, context: dict, name: str, differ: np.ndarray, facts: dict) -> int:
    """Of the differing codes of `name` (the first tensor that differs, so its inputs are
    equal), those where qonnx's value before its Quant, over the scale, is not within
    2^-16 of a tie k + 1/2: a tie is where qonnx's float32 sum, in onnxruntime's order, and
    fxhls's exact sum rounded once may round apart (the README's stated exception)."""
    import onnx

    quant = next(node for node in onnx.load(str(path)).graph.node if name in node.output)
    before = context[quant.input[0]].astype(np.float64).reshape(differ.shape)
    ratio = before / np.asarray(facts["scale"], dtype=np.float64)
    at_tie = np.abs(ratio - np.floor(ratio) - 0.5) < 2.0**-16
    return int((differ & ~at_tie).sum())
