"""Lookup tables over inputs wider than 16 bits: the truncated grid (`fxhls.fixed.table_grid`).

The emulator's Table over every code of hypothesis-drawn wide input types equals an
independent computation of the documented truncation (the clamp found by scanning every
code, the fewest dropped bits by counting, the index and entries written out again here);
clamping changes no output; QFX's activations compute the same values; a float model at
ap_fixed<18,8> and ap_fixed<24,10> with Sigmoid and Tanh gives C simulation == RTL
co-simulation == emulation with ==.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rtl_cli import build_and_cosim
from fxhls.emulation import emulate
from fxhls.fixed import FixedType, quantize
from fxhls.fixed.functions import evaluate, parameters
from fxhls.hls.build import build_project
from fxhls.ir import Node
from fxhls.ir.ops.table import Table, table_attrs
from fxhls.model_config import model_config
from fxhls.onnx import load_onnx
from fxhls.qfx import QELU, QExp, QHardSigmoid, QSELU, QSigmoid, QSoftplus, QTanh
from fxhls.qfx.typed import tag
from fxhls.sim.csim import run_csim
from float_models import export_torch, torch_float

LAYERS = {"Sigmoid": QSigmoid, "Tanh": QTanh, "HardSigmoid": QHardSigmoid, "Elu": QELU, "Selu": QSELU,
          "Softplus": QSoftplus, "Exp": QExp}
SATURATING = ("AP_SAT", "AP_SAT_SYM")


def _wide_types():
    return st.builds(lambda w, i, s: FixedType(w, i, s), st.integers(17, 20), st.integers(2, 9), st.booleans())


def _out_types():
    return st.builds(lambda w, i, s, r, o: FixedType(w, i, s, r, o), st.integers(4, 16), st.integers(-1, 6),
                     st.booleans(), st.sampled_from(["AP_TRN", "AP_RND", "AP_RND_CONV", "AP_TRN_ZERO"]),
                     st.sampled_from(["AP_WRAP", "AP_SAT", "AP_SAT_SYM"]))


def _params(function: str, alpha: float, beta: float) -> dict:
    given_params = {"HardSigmoid": {"alpha": alpha, "beta": beta}, "Elu": {"alpha": alpha}}.get(function, {})
    return parameters(function, given_params)


def _documented_truncation(function, params, in_type, out_type):
    """The README's truncation, computed by scanning every code: (low, high, k, output of every code)."""
    codes = np.arange(in_type.min_code, in_type.max_code + 1, dtype=np.int64)
    saturating = FixedType(out_type.width, out_type.int_bits, out_type.signed, out_type.rounding, "AP_SAT")
    rounded = quantize(evaluate(function, codes * in_type.lsb, params), saturating)
    low, high = int(codes[0]), int(codes[-1])
    is_monotone = (np.diff(rounded) >= 0).all() or (np.diff(rounded) <= 0).all()
    if function not in ("Elu", "Selu") or params["alpha"] >= 0:
        assert is_monotone
        bounds = (saturating.min, saturating.max)
        if out_type.overflow in SATURATING or rounded[0] not in bounds:
            low = int(codes[np.argmax(rounded != rounded[0]) - 1]) if (rounded != rounded[0]).any() else high
        if out_type.overflow in SATURATING or rounded[-1] not in bounds:
            changed = np.nonzero(rounded != rounded[-1])[0]
            high = int(codes[changed[-1] + 1]) if len(changed) else int(codes[0])
        high = max(high, low)
    k = 0
    while (high - low + (2**k // 2)) // 2**k + 1 > 65536:
        k += 1
    index = (np.clip(codes, low, high) - low + 2**k // 2) // 2**k
    points = np.minimum(low + index * 2**k, high)
    points[index == index.max()] = high
    return low, high, k, quantize(evaluate(function, points * in_type.lsb, params), out_type)


@settings(max_examples=40, deadline=None)
@given(function=st.sampled_from(sorted(LAYERS)), in_type=_wide_types(), out_type=_out_types(),
       alpha=st.floats(-2, 2), beta=st.floats(-1, 1))
def test_the_emulated_table_is_the_documented_truncation(function, in_type, out_type, alpha, beta):
    params = _params(function, alpha, beta)
    low, high, k, expected = _documented_truncation(function, params, in_type, out_type)
    node = Node("Table", "t", ["x"], ["y"], table_attrs(function, params, in_type, out_type))
    assert (node.attrs["clamp_low"], node.attrs["clamp_high"], node.attrs["drop_bits"]) == (low, high, k)
    grid = np.arange(in_type.min_code, in_type.max_code + 1, dtype=np.float64) * in_type.lsb
    got = Table.execute(node, [grid], [in_type])[0]
    assert int((got != expected).sum()) == 0
    full = quantize(evaluate(function, grid, params), out_type)  # the function on every code
    clamped = (grid < low * in_type.lsb) | (grid > high * in_type.lsb)
    at_bounds = quantize(evaluate(function, np.clip(grid, low * in_type.lsb, high * in_type.lsb), params), out_type)
    assert (full[clamped] == at_bounds[clamped]).all()  # clamping changes no output
    if k == 0:
        assert (got == full).all()


@settings(max_examples=30, deadline=None)
@given(function=st.sampled_from(sorted(LAYERS)), in_type=_wide_types(), out_type=_out_types(),
       alpha=st.floats(-2, 2), beta=st.floats(-1, 1))
def test_qfx_activations_read_the_same_truncated_table(function, in_type, out_type, alpha, beta):
    layer = {"HardSigmoid": lambda: QHardSigmoid(alpha, beta, output=out_type),
             "Elu": lambda: QELU(alpha, output=out_type)}.get(function, lambda: LAYERS[function](output=out_type))()
    grid = np.arange(in_type.min_code, in_type.max_code + 1, dtype=np.float64) * in_type.lsb
    with torch.no_grad():
        got = layer(tag(torch.tensor(grid, dtype=torch.float64), in_type)).numpy()
    node = Node("Table", "t", ["x"], ["y"], table_attrs(function, layer.params, in_type, layer.output_type))
    assert int((got != Table.execute(node, [grid], [in_type])[0]).sum()) == 0


def test_a_table_whose_truncation_does_not_match_its_input_is_refused():
    in_type, out_type = FixedType.parse("ap_fixed<18,8>"), FixedType.parse("ap_fixed<16,6>")
    attrs = table_attrs("Sigmoid", {}, in_type, out_type)
    with pytest.raises(ValueError, match=r"^node 't': its truncation attributes \(clamp_low, clamp_high, drop_bits\) "
                                         r"are not those of its ap_fixed<18,8> input"):
        Table.execute(Node("Table", "t", ["x"], ["y"], {**attrs, "drop_bits": 3}), [np.zeros(2)], [in_type])
    with pytest.raises(ValueError, match=r"input \(none: a full table\)$"):
        Table.execute(Node("Table", "t", ["x"], ["y"], attrs), [np.zeros(2)], [FixedType.parse("ap_fixed<12,4>")])


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 6), torch.nn.Sigmoid(), torch.nn.Linear(6, 4), torch.nn.Tanh()).eval()


@pytest.mark.parametrize("default", ["ap_fixed<18,8>", "ap_fixed<24,10>"])
def test_csim_and_cosim_equal_emulate(default, tmp_path, capsys):
    export_torch(_model(), (8,), tmp_path / "m.onnx")
    truncations = [{key: node.attrs[key] for key in ("clamp_low", "clamp_high", "drop_bits")}
                   for node in load_onnx(tmp_path / "m.onnx", default_type=default).nodes if node.op == "Table"]
    assert len(truncations) == 2
    x = np.random.default_rng(7).normal(scale=3, size=(200, 8))
    build, _ = build_project(tmp_path / "m.onnx", "ultra96v2", tmp_path / "hls", types=model_config(default_type=default))
    expected = emulate(tmp_path / "m.onnx", x, default_type=default)
    got = run_csim(build, x)
    assert got.shape == expected.shape and int((got != expected).sum()) == 0 and len(np.unique(expected)) > 200
    error = float(np.abs(expected - torch_float(_model(), x)).max())
    with capsys.disabled():
        print(f"\nLinear-Sigmoid-Linear-Tanh at {default}: tables {truncations}; largest error vs float {error:.2e}")
    printed = build_and_cosim(tmp_path / "m.onnx", x[:12], tmp_path / "rtl", capsys, "--default-type", default)
    assert "0 of 48 output values differ" in printed
