"""Test vectors: inputs, the emulator's outputs for them, and both as stream words."""

from __future__ import annotations

import numpy as np

from fxhls.deploy import packing
from fxhls.fixed import FixedType, quantize
from fxhls.ir import Graph, execute
from fxhls.ir.execute import as_batch
from fxhls.fixed.float32 import host_head, host_tail

DEFAULT_SAMPLES = 8


def random_inputs(design: dict, samples: int = DEFAULT_SAMPLES, seed: int = 0) -> np.ndarray:
    """`samples` inputs of the design's input type, uniform over its codes (seeded)."""
    t = FixedType.parse(design["input"]["type"])
    generator = np.random.default_rng(seed)
    codes = generator.integers(t.min_code, t.max_code, size=(samples, *design["input"]["shape"]), endpoint=True)
    return np.ldexp(codes.astype(np.float64), -t.frac_bits)


def cast_inputs(design: dict, x) -> np.ndarray:
    """The host's input cast: x quantized to the design's input type (float64 values)."""
    x = as_batch(x, design["input"]["shape"])
    if len(x) == 0:
        raise ValueError("inputs must be a non-empty batch, got none")
    return quantize(x, design["input"]["type"])


def host_inputs(design: dict, x) -> np.ndarray:
    """Model inputs x as the host sends them: transposed where the model takes them
    channels-last (design["host"]["input_transpose"]), through the float work before the
    first quantizer (design["host"]["head"], a float-scaled model's), then the input cast."""
    host = design.get("host", {})
    if host.get("input_transpose"):
        x = as_batch(x, model_input_shape(design)).transpose(host["input_transpose"])
    head = host.get("head")
    return cast_inputs(design, x if head is None else host_head(as_batch(x, model_input_shape(design)), head))


def model_input_shape(design: dict) -> tuple[int, ...]:
    """A model input's sample shape: the input stream's, before the host's transpose; the
    model's own where the host head computes its first layer (design["host"]["head"]["input_shape"])."""
    host = design.get("host", {})
    if (host.get("head") or {}).get("input_shape"):
        return tuple(host["head"]["input_shape"])
    shape, perm = design["input"]["shape"], host.get("input_transpose")
    if not perm:
        return tuple(shape)
    model = [0] * len(shape)
    for stream_axis, model_axis in enumerate(perm[1:]):
        model[model_axis - 1] = shape[stream_axis]
    return tuple(model)


def host_outputs(design: dict, y: np.ndarray) -> np.ndarray:
    """The hardware's outputs y through the host's float work after it (design["host"]["tail"]),
    transposed where the model gives them channels-last (design["host"]["output_transpose"])."""
    host = design.get("host", {})
    y = y if host.get("tail") is None else host_tail(y, host["tail"])
    return y.transpose(host["output_transpose"]) if host.get("output_transpose") else y


def to_words(spec: dict, values: np.ndarray) -> np.ndarray:
    """Values (batch, *shape) of a stream's type as its 64-bit words (batch, words)."""
    codes = packing.to_codes(packing.to_stream_order(values), spec["frac_bits"])
    return packing.pack(codes, spec["lane"])


def from_words(spec: dict, words: np.ndarray) -> np.ndarray:
    """Stream words (batch, words) back to values (batch, *shape); int64 indices for an
    index stream (design.json's "indices": an ArgMax's output)."""
    codes = packing.unpack(words, spec["values"], spec["lane"], spec["signed"])
    values = codes.astype(np.int64) if spec.get("indices") else packing.from_codes(codes, spec["frac_bits"])
    return packing.from_stream_order(values, spec["shape"])


def expected_outputs(graph: Graph, x: np.ndarray) -> np.ndarray:
    """The emulator's outputs for the inputs x: what the hardware must compute."""
    return execute(graph, x)[0]
