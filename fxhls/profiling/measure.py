"""The numbers of a profile: every cast of the model (each fxhls `Quantize` of the IR: the
input, the weights and biases, the layer outputs), the float values it receives against
the range of its type, and how far the fixed-point values are from float.

A float model (typed with `--default-type`/`--config`) has a float reference: its own ONNX
file run by onnx's reference evaluator (float32, every intermediate tensor kept), on the
tensor names the typing keeps; a constant's float values are the model's own. A model typed
already (QONNX, fxhls) has none: the values a cast receives are then the emulator's, before
that cast, and there is no error to show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import onnx

from fxhls.fixed import FixedType, quantize
from fxhls.fixed.types import MAX_WIDTH
from fxhls.ir import Graph, execute
from fxhls.ir.execute import as_batch
from fxhls.ir.ops import OPS

# The operand positions a layer reads its constants from, and what each is.
_CONSTANT_KINDS = {"Gemm": {1: "weight", 2: "bias"}, "Conv": {1: "weight", 2: "bias"}, "MatMul": {1: "weight"},
                   "Add": {0: "bias", 1: "bias"}, "Mul": {0: "weight", 1: "weight"}}
_EXACT_WIDTH = 53  # `quantize` is exact on float64 up to this width


@dataclass
class Cast:
    """One cast of the model: the `layer` (ONNX node name, or the input's name) whose
    `kind` of value ("input", "weight", "bias", "output") it types, the `type`, the
    `reference` values it receives (float, batch first for non-constants) and the `fixed`
    values the emulator computes there (None where there is no float model to compare)."""

    layer: str
    kind: str
    type: FixedType
    reference: np.ndarray
    fixed: np.ndarray | None


@dataclass
class Profile:
    """A model's profile: one row per cast (`row_stats`), the comparison of the model's
    output with float (`output`: name, samples, top_class_agreement, max_abs_error,
    mean_abs_error; None for a model typed already), and the files written."""

    model: str
    samples: int
    percentile: float
    rows: list[dict]
    output: dict | None
    files: list = field(default_factory=list)


def casts(graph: Graph, x: np.ndarray, reference: dict | None) -> tuple[list[Cast], np.ndarray]:
    """The casts of `graph` (an IR from `load_onnx`, not fused) run on the batch `x`, and
    the graph's first output. `reference`: the float model's tensors by name (None: the
    model is typed already)."""
    quantizers = [node for node in graph.nodes if node.op == "Quantize"]
    per_sample = [name for node in quantizers if not graph.is_constant(node.inputs[0])
                  for name in (*node.inputs, *node.outputs)]
    computed = list(dict.fromkeys([graph.outputs[0], *per_sample]))
    emulated = dict(zip(computed, execute(replace(graph, outputs=computed), x)))
    result = []
    for node in quantizers:
        source, target = node.inputs[0], node.outputs[0]
        layer, kind = _role(graph, source, target)
        if graph.is_constant(source):  # the model's own float constant (as the import laid it out)
            received = graph.tensor(source).data
            fixed = OPS["Quantize"].execute(node, [received])[0]
        else:
            fixed, received = emulated[target], emulated[source]
            if reference is not None:
                received = reference[target] if target in reference else reference[source]
        result.append(Cast(layer, kind, graph.tensor(target).type, np.asarray(received, dtype=np.float64),
                           fixed if reference is not None else None))
    return result, emulated[graph.outputs[0]]


def _role(graph: Graph, source: str, target: str) -> tuple[str, str]:
    """The layer a cast belongs to and the kind of value it types: the network input, a
    constant of the layer reading it, or the output of the node computing its input."""
    if source in graph.inputs:
        return source, "input"
    if graph.is_constant(source):
        readers = graph.consumers(target)
        if not readers:
            return target, "constant"
        return readers[0].name, _CONSTANT_KINDS.get(readers[0].op, {}).get(readers[0].inputs.index(target), "constant")
    producer = graph.producer(source)
    return (producer.name if producer is not None else source), "output"


def float_reference(proto: onnx.ModelProto, x: np.ndarray) -> dict:
    """Every tensor the float model `proto` computes on the batch `x` (float32, as onnx's
    reference evaluator computes it), and its input, by name."""
    from onnx.reference import ReferenceEvaluator

    batch_free = onnx.ModelProto()
    batch_free.CopyFrom(proto)
    del batch_free.graph.value_info[:]  # their batch sizes, if fixed, would not be the batch's
    for value in (*batch_free.graph.input, *batch_free.graph.output):
        if value.type.tensor_type.shape.dim:
            value.type.tensor_type.shape.dim[0].dim_param = "batch"
    initializers = {init.name for init in proto.graph.initializer}
    name = next(value.name for value in proto.graph.input if value.name not in initializers)
    feed = x.astype(np.float32)
    return {name: feed, **ReferenceEvaluator(batch_free).run(None, {name: feed}, intermediate=True)}


def row_stats(cast: Cast, percentile: float) -> dict:
    """A cast's row: the float range it receives (min, max, the `percentile` of |x|), its
    type's range, the fractions that saturate (outside [min, max]) and that underflow
    (nonzero, inside the range, cast to 0), the error of the fixed values against float,
    the integer bits that hold the percentile at the type's fractional bits, and the
    log2 quartiles of the nonzero |x| for the plot."""
    values, t = cast.reference.ravel(), cast.type
    magnitudes = np.abs(values)
    inside = (values >= t.min) & (values <= t.max)
    level = float(np.percentile(magnitudes, percentile))
    nonzero = np.log2(magnitudes[magnitudes > 0])
    underflow = None
    if t.width <= _EXACT_WIDTH:
        underflow = float((inside & (values != 0) & (quantize(values, t) == 0)).mean())
    errors = None
    if cast.fixed is not None and cast.fixed.size == values.size:
        errors = np.abs(cast.fixed.ravel() - values)
    return {
        "layer": cast.layer, "kind": cast.kind, "type": str(t), "values": int(values.size),
        "min": float(values.min()), "max": float(values.max()), "percentile_abs": level,
        "type_min": t.min, "type_max": t.max, "lsb": t.lsb,
        "saturated": float((~inside).mean()), "underflow": underflow,
        "max_abs_error": float(errors.max()) if errors is not None else None,
        "mean_abs_error": float(errors.mean()) if errors is not None else None,
        "int_bits_needed": int_bits_needed(level, t) if level > 0 else None,
        "log2_quartiles": [float(q) for q in np.percentile(nonzero, [0, 25, 50, 75, 100])] if nonzero.size else None,
    }


def int_bits_needed(magnitude: float, t: FixedType) -> int | None:
    """The fewest integer bits (sign included) of a type with `t`'s fractional bits and
    signedness whose largest value is at least `magnitude` (> 0); None past the widest type."""
    int_bits = max(1 - t.frac_bits, math.floor(math.log2(magnitude)))  # at least one bit in all
    while int_bits + t.frac_bits <= MAX_WIDTH:
        if FixedType(int_bits + t.frac_bits, int_bits, t.signed).max >= magnitude:
            return int_bits
        int_bits += 1
    return None


def output_comparison(fixed: np.ndarray, reference: np.ndarray, name: str) -> dict:
    """The model's output against float: largest and mean absolute error, and the share of
    samples whose top class (argmax over each sample's values) is the same."""
    fixed, reference = fixed.reshape(len(fixed), -1), np.asarray(reference, dtype=np.float64).reshape(len(fixed), -1)
    errors = np.abs(fixed - reference)
    return {"name": name, "samples": len(fixed), "max_abs_error": float(errors.max()),
            "mean_abs_error": float(errors.mean()),
            "top_class_agreement": float((fixed.argmax(axis=1) == reference.argmax(axis=1)).mean())}


def checked_batch(graph: Graph, x, source: str) -> np.ndarray:
    """`x` as the float64 batch `graph` runs, or a one-line ValueError naming `source`."""
    try:
        batch = as_batch(x, graph.tensor(graph.inputs[0]).shape)
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None
    if not np.isfinite(batch).all():
        raise ValueError(f"{source}: holds NaN or infinite values; a profile measures finite inputs")
    if not len(batch):
        raise ValueError(f"{source}: holds no samples (a batch of 0)")
    return batch
