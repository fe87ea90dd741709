"""`fxhls profile`: how a model's values fit its fixed-point types, layer by layer.

For every cast of the model (the input, each layer's weights, biases and output), the
float values it receives on a batch of inputs against its type's range: min, max and a
percentile of |x|, the fractions that saturate and that underflow to zero, the error of
the emulator against float, and the integer bits the percentile needs; for a float model,
also how often the top class of the output is float's. `measure` computes the numbers,
`report` writes them as a table, Markdown, CSV and an SVG plot.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["profile_model"]


def profile_model(model, x, input_type=None, default_type=None, config=None, out=None,
                  percentile: float = 99.9):
    """The profile of `model` (an .onnx path: a float model with its types, as
    `fxhls.onnx.load_onnx` takes them, or a QONNX/fxhls model with its own) on the inputs
    `x` (batch first: an array, or the path of a .npy file); with `out`, also written
    there as profile.md, profile.csv and profile.svg. Returns a `measure.Profile`: its
    `rows` (one dict per cast, `measure.row_stats`), `output` and `files`."""
    import onnx

    from fxhls.model_config import model_config
    from fxhls.npy_files import load_npy
    from fxhls.onnx import load_onnx

    from . import measure, report

    if not 0 <= percentile <= 100:
        raise ValueError(f"--percentile {percentile:g}: a percentile is between 0 and 100")
    types = model_config(config, input_type, default_type)
    graph = load_onnx(model, config=types)
    source = f"--input {x}" if isinstance(x, (str, Path)) else "the inputs"
    batch = measure.checked_batch(graph, load_npy(x) if isinstance(x, (str, Path)) else x, source)
    reference = None
    if types is not None and types.gives_types():  # a float model: it runs as it is, in float
        reference = measure.float_reference(onnx.load(str(model)), batch)
    found, output = measure.casts(graph, batch, reference)
    comparison = None
    if reference is not None:
        comparison = measure.output_comparison(output, reference[graph.outputs[0]], graph.outputs[0])
    result = measure.Profile(Path(str(model)).stem, len(batch), percentile,
                     [measure.row_stats(cast, percentile) for cast in found], comparison)
    if out is not None:
        result.files = report.write_profile(Path(out), result)
    return result
