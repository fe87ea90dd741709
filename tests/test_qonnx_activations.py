"""Activations in QONNX models (Sigmoid, Tanh, HardSigmoid, Elu, Selu, Softplus, Exp): a step
of the float chain whose value is the correctly rounded float32 function, so that
Gemm -> Sigmoid -> Quant is one MultiThreshold and Quant -> Sigmoid -> Quant a
MultiThreshold on the codes.

The written semantics: the step's value is the float32 nearest to f(x), x its float32
input. The tests check fxhls against that, computed independently here (mpmath at 100
bits, then qonnx's own Quant), on every input code. qonnx's executor runs onnxruntime,
whose float32 functions are approximations: within ORT_ERROR_ULPS float32 ulps of
max(|f(x)|, 1) of f(x) (measured: at most 2.64, Tanh, over 900,000 inputs in [-100, 100]).
So onnxruntime can give another code only where f(x) lies that close to a rounding
boundary of the quantizer after it: the tests count the codes where it differs and assert
that each is such a code.
"""

from __future__ import annotations

import mpmath
import onnx
import numpy as np
import pytest
from onnx import helper
from qonnx.custom_op.general.quant import quant as qonnx_quant

from float_scaled_models import model, quant
from fuzz_models import qonnx_reference
from fxhls.emulation import emulate
from fxhls.fixed import FixedType
from fxhls.fixed.float32 import quant_codes, run_chain
from fxhls.fixed.functions import FUNCTIONS, parameters
from fxhls.ir import OPS, Node
from fxhls.ir.requantize import thresholds
from fxhls.onnx import load_onnx

ORT_ERROR_ULPS = 3
_EXACT = {
    "Sigmoid": lambda x, p: 1 / (1 + mpmath.exp(-x)),
    "Tanh": lambda x, p: mpmath.tanh(x),
    "HardSigmoid": lambda x, p: min(max(p["alpha"] * x + p["beta"], 0), 1),
    "Elu": lambda x, p: x if x > 0 else p["alpha"] * mpmath.expm1(x),
    "Selu": lambda x, p: p["gamma"] * (x if x > 0 else p["alpha"] * mpmath.expm1(x)),
    "Softplus": lambda x, p: mpmath.log1p(mpmath.exp(x)),
    "Exp": lambda x, p: mpmath.exp(x),
}
CASES = [("Sigmoid", {}), ("Tanh", {}), ("HardSigmoid", {"alpha": 1 / 6}), ("Elu", {"alpha": 0.7}), ("Selu", {}),
         ("Softplus", {}), ("Exp", {})]


def _exact(function: str, attrs: dict, x: np.ndarray) -> list:
    """f at each float32 of `x`, to 100 bits (the parameters as float32, as ONNX holds them)."""
    with mpmath.workprec(100):
        p = {name: mpmath.mpf(value) for name, value in parameters(function, attrs).items()}
        return [_EXACT[function](mpmath.mpf(float(v)), p) for v in np.ravel(x)]


def _nearest_float32(values: list) -> np.ndarray:
    """The float32 nearest to each value (ties to even), decided with mpmath."""
    out = []
    with mpmath.workprec(100):
        for value in values:
            guess = np.float32(float(value))
            candidates = [np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf))]
            distances = [abs(mpmath.mpf(float(c)) - value) for c in candidates]
            best = min(distances)
            ties = [c for c, d in zip(candidates, distances) if d == best]
            out.append(next((c for c in ties if not int(np.array(c).view(np.uint32)) & 1), ties[0]))
    return np.array(out, dtype=np.float32)


def _near_boundary(exact: list, quantize) -> np.ndarray:
    """Where a value within ORT_ERROR_ULPS ulps of max(|f|, 1) of the exact f gets another
    code from `quantize` (float32 values -> codes) than f's nearest float32."""
    low, high = [], []
    for value in exact:
        error = ORT_ERROR_ULPS * float(np.spacing(np.float32(max(abs(float(value)), 1.0))))
        low.append(np.float32(float(value) - error))
        high.append(np.float32(float(value) + error))
    return quantize(np.array(low, np.float32)) != quantize(np.array(high, np.float32))


@pytest.mark.parametrize("function, attrs", CASES)
@pytest.mark.parametrize("in_scale, out", [(2.0**-6, {"scale": 0.0077, "signed": 1}),
                                           (0.0371, {"scale": 0.0041, "signed": 0, "rounding_mode": "FLOOR"})])
def test_codes_through_an_activation_are_the_correctly_rounded_function_s(function, attrs, in_scale, out):
    """Quant (10 bits) -> f -> Quant (8 bits), on every input code: fxhls gives the codes of
    the correctly rounded float32 f exactly; qonnx's executor differs only near a boundary."""
    out = {**out, "scale": out["scale"] * (40 if function == "Exp" else 1)}
    n1, i1 = quant("x", "q0", in_scale, bits=10)
    n2, i2 = quant("a", "y", bits=8, **out)
    proto = model([n1, helper.make_node(function, ["q0"], ["a"], **attrs), n2], i1 + i2, (1024,))
    graph = load_onnx(proto)
    requantization, host = [n.op for n in graph.nodes][-2:]
    assert requantization in ("MultiThreshold", "MulShift") and host == "HostFloat"  # MulShift: HardSigmoid's line
    x = (np.arange(-512, 512) * np.float32(in_scale)).astype(np.float32)[None, :]
    out_scale = np.float32(out["scale"])

    def quantized(values):
        return qonnx_quant(values, out_scale, np.float32(0), np.float32(8), out["signed"], 0,
                           out.get("rounding_mode", "ROUND"))

    exact = _exact(function, attrs, x)
    reference = quantized(_nearest_float32(exact))[None, :]
    assert len(np.unique(reference)) > 20
    ours = emulate(graph, x)
    assert int((ours != reference).sum()) == 0
    executor = qonnx_reference(proto, x)
    differing = (executor != reference)[0]
    assert not (differing & ~_near_boundary(exact, quantized)).any()


@pytest.mark.parametrize("function, attrs", CASES)
def test_thresholds_equal_the_float_chain_with_an_activation_on_every_accumulator_value(function, attrs):
    """Rising and falling channels (a negative scale before the function, or a negative
    multiplier after it): every code of every value of the accumulator type."""
    source = FixedType(12, 9, True)
    params = parameters(function, attrs)
    chain = {"rescale": {"zero": [0.0], "scales": [[0.0371], [0.5, -0.3, 0.1, 0.05]], "bias": [0.3, -1, 0, 0.2]},
             "steps": [{"op": "function", "function": function, "params": params},
                       {"op": "mul", "constant": [1.7, 0.9, -0.3, 2.5]}]}
    q = {"scale": [0.021], "zero": [0.0], "bits": 7, "signed": True, "narrow": False, "rounding": "ROUND"}
    levels, direction, base = thresholds(chain, q, source, 4)
    assert set(direction) == {1, -1}
    node = Node("MultiThreshold", "t", ["x", "t"], ["y"], {"direction": direction, "base": base})
    grid = np.arange(source.min_code, source.max_code + 1, dtype=np.float64) * source.lsb
    values = np.repeat(grid[:, None], 4, axis=1)
    expected = quant_codes(run_chain(values, chain, 1), q, 1)
    assert len(np.unique(expected)) > 20
    assert int((OPS["MultiThreshold"].execute(node, [values, levels])[0] != expected).sum()) == 0


def test_an_activation_that_reaches_the_output_runs_on_the_host():
    n1, i1 = quant("x", "q0", 0.0371, bits=8)
    proto = model([n1, helper.make_node("Tanh", ["q0"], ["t"]), helper.make_node("Mul", ["t", "c"], ["y"])],
                  i1 + [("c", 1.3)], (256,))
    graph = load_onnx(proto)
    assert [n.op for n in graph.nodes] == ["HostQuantize", "HostFloat"]
    x = (np.arange(-128, 128) * np.float32(0.0371)).astype(np.float32)[None, :]
    exact = np.array([float(v) for v in _exact("Tanh", {}, x)])
    reference = (_nearest_float32(list(exact)) * np.float32(1.3)).astype(np.float32)
    assert int((emulate(graph, x)[0] != reference).sum()) == 0


def test_an_elu_with_a_negative_alpha_is_refused_in_one_line():
    n1, i1 = quant("x", "q0", 0.0371, bits=8)
    n2, i2 = quant("a", "y", 0.01)
    proto = model([n1, helper.make_node("Elu", ["q0"], ["a"], name="elu", alpha=-0.5), n2], i1 + i2, (4,))
    with pytest.raises(ValueError, match=r"^node 'elu' \(Elu\): alpha=-0.5 makes Elu fall, then rise; on a float "
                                         r"value only a monotone function is supported \(alpha >= 0\)$"):
        load_onnx(proto)


def test_every_function_has_an_exact_reference_here():
    assert set(_EXACT) == set(FUNCTIONS)


def _brevitas_models() -> dict:
    """name -> (model, input features): Brevitas's QuantSigmoid and QuantTanh, and torch
    activations between QuantIdentity layers; power-of-two quantizers into each Linear (so
    qonnx's float32 sums are exact), Brevitas's default float-scale ones after an activation."""
    from brevitas import nn as qnn
    from brevitas.quant import Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint, Uint8ActPerTensorFixedPoint
    from torch import nn

    def linear(inputs, outputs):
        return qnn.QuantLinear(inputs, outputs, weight_quant=Int8WeightPerTensorFixedPoint)

    def fixed(quant=Int8ActPerTensorFixedPoint):
        return qnn.QuantIdentity(act_quant=quant, return_quant_tensor=True)

    return {
        "quant_sigmoid_tanh": nn.Sequential(fixed(), linear(12, 16),
                                            qnn.QuantSigmoid(act_quant=Uint8ActPerTensorFixedPoint,
                                                             return_quant_tensor=True),
                                            linear(16, 16), qnn.QuantTanh()),
        "torch_activations": nn.Sequential(fixed(), linear(12, 16), nn.ELU(), fixed(), linear(16, 16), nn.SELU(),
                                           fixed(), linear(16, 16), nn.Hardsigmoid(),
                                           fixed(Uint8ActPerTensorFixedPoint), linear(16, 16), nn.Softplus(),
                                           qnn.QuantIdentity()),
    }


@pytest.mark.parametrize("name", ["quant_sigmoid_tanh", "torch_activations"])
def test_brevitas_activations_emulate_as_qonnx_executes_them(name, tmp_path):
    """Exported with brevitas.export.export_qonnx: every activation is a MultiThreshold, and on
    these seeded inputs (1,024 samples) every output equals qonnx's executor's."""
    import torch
    from brevitas.export import export_qonnx
    from brevitas.graph.calibrate import calibration_mode

    torch.manual_seed(0)
    network = _brevitas_models()[name]
    network.train()
    with torch.no_grad(), calibration_mode(network):
        for _ in range(4):
            network(torch.randn(64, 12) * 2)
    network.eval()
    x = (np.random.default_rng(1).normal(size=(1024, 12)) * 2).astype(np.float32)
    export_qonnx(network, args=torch.from_numpy(x), export_path=str(tmp_path / "m.onnx"), dynamo=False)
    graph = load_onnx(str(tmp_path / "m.onnx"))
    assert "Gemm" in [n.op for n in graph.nodes] and "Table" not in [n.op for n in graph.nodes]
    expected = qonnx_reference(onnx.load(str(tmp_path / "m.onnx")), x)
    assert len(np.unique(expected)) > 50
    assert int((emulate(graph, x) != expected).sum()) == 0
