"""calibrate: after it, no quantizer overflows on the calibration data, and none has a bit to spare."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fxhls.fixed import FixedType
from fxhls.qfx import FixedQuantizer, QFXConfig, calibrate, quantize_model
from qfx_models import ResidualCNN, mlp, with_statistics


def seen_ranges(model: nn.Module, x: torch.Tensor) -> dict[str, tuple[float, float]]:
    """{quantizer name: (lowest, highest) value it is given} when `model` runs on `x` in eval mode."""
    ranges = {}

    def recorder(name):
        def record(_, args):
            low, high = ranges.get(name, (float("inf"), float("-inf")))
            ranges[name] = (min(low, args[0].min().item()), max(high, args[0].max().item()))
        return record

    quantizers = [(name, m) for name, m in model.named_modules() if isinstance(m, FixedQuantizer)]
    handles = [q.register_forward_pre_hook(recorder(name)) for name, q in quantizers]
    model.eval()
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    assert len(ranges) == len(quantizers)
    return ranges


def overflows(t: FixedType, low: float, high: float) -> bool:
    return high > t.max or (t.signed and low < t.min)


CASES = [
    pytest.param(mlp, QFXConfig(weight_bits=6, activation_bits=6), (512, 4, 4), id="mlp"),
    pytest.param(lambda: with_statistics(ResidualCNN()), QFXConfig(weight_bits=5, activation_bits=4),
                 (128, 1, 8, 8), id="cnn"),
]


@pytest.mark.parametrize("build, config, shape", CASES)
def test_no_overflow_and_one_bit_fewer_would(build, config, shape):
    torch.manual_seed(3)
    model = quantize_model(build(), config)
    x = torch.randn(shape) * 3
    calibrate(model, x, batch_size=100)
    quantizers = dict(model.named_modules())
    for name, (low, high) in seen_ranges(model, x).items():
        t = quantizers[name].type
        assert not overflows(t, low, high), (name, t, low, high)
        narrower = FixedType(t.width, t.int_bits - 1, t.signed, t.rounding, t.overflow)
        assert overflows(narrower, low, high), (name, t, low, high)


def test_khot_weights_fit_the_largest_khot_value():
    # K=1 of ap_fixed<6,I>: codes +-2^j, at most 2^4 = 16 units (32 is not representable)
    # and at least -32, so the weights must lie in [-2**(I-1), 2**(I-2)].
    torch.manual_seed(4)
    model = quantize_model(mlp(), QFXConfig(weight_bits=6, khot=1))
    calibrate(model, torch.randn(64, 4, 4))
    for index in ("1", "3"):
        layer = model.get_submodule(index)
        w, int_bits = layer.weight.detach(), layer.weight_type.int_bits
        assert -(2.0 ** (int_bits - 1)) <= w.min() and w.max() <= 2.0 ** (int_bits - 2)
        assert w.min() < -(2.0 ** (int_bits - 2)) or w.max() > 2.0 ** (int_bits - 3)


def test_batches_from_an_iterable_of_pairs_and_mode_restored():
    torch.manual_seed(5)
    x = torch.randn(96, 4, 4)
    by_tensor = quantize_model(mlp(), {"activation_bits": 5})
    by_pairs = quantize_model(mlp(), {"activation_bits": 5})
    by_pairs.load_state_dict(by_tensor.state_dict())
    by_pairs.train()
    calibrate(by_tensor, x)
    calibrate(by_pairs, [(x[i : i + 32], torch.zeros(32)) for i in range(0, 96, 32)])
    assert by_pairs.training
    types = lambda model: [m.type for m in model.modules() if isinstance(m, FixedQuantizer)]  # noqa: E731
    assert types(by_pairs) == types(by_tensor)


def test_errors():
    with pytest.raises(ValueError, match="calibrate: Sequential has no FixedQuantizer"):
        calibrate(mlp(), torch.randn(4, 4, 4))
    with pytest.raises(ValueError, match="calibrate: no calibration data"):
        calibrate(quantize_model(mlp()), [])
    with pytest.raises(ValueError, match="calibrate: quantizer 'input.output_quantizer' was given non-finite"):
        calibrate(quantize_model(mlp()), torch.full((2, 4, 4), float("nan")))


def test_a_fixed_binary_point_is_kept_or_named_when_it_cannot_hold_the_weights():
    model = quantize_model(mlp(), QFXConfig(weight_bits=8, activation_bits=8))
    data = torch.rand(64, 1, 4, 4)
    quantizers = dict((name, m) for name, m in model.named_modules() if isinstance(m, FixedQuantizer))
    name, frozen = next((n, q) for n, q in quantizers.items() if n.endswith("weight_quantizer"))
    frozen.int_bits.requires_grad_(False)
    frozen.set_int_bits(4)
    calibrate(model, data)
    assert frozen.type.int_bits == 4  # wide enough: left as the user set it
    frozen.set_int_bits(-6)
    with pytest.raises(ValueError, match=rf"^calibrate: quantizer '{name}' has the fixed type ap_fixed<8,-6"):
        calibrate(model, data)
