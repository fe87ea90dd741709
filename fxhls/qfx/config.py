"""`QFXConfig`: the widths and modes `quantize_model` gives a model's fixed-point types."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Mapping

from fxhls.fixed import FixedType
from fxhls.qfx.khot import khot_projection
from fxhls.qfx.quantizer import BINARY_POINTS

_WIDTH_FIELDS = ("weight_bits", "bias_bits", "activation_bits", "input_bits")


@dataclass(frozen=True)
class QFXConfig:
    """The widths of a converted model's types; binary points are not set here.

    Each quantizer's binary point starts at its layer's default and is then set
    by `calibrate` and learned in training; the input's is only calibrated unless
    `input_binary_point` says otherwise. Accumulators are exact.

    * `weight_bits`: weights of Linear and Conv2d, and BatchNorm scales;
    * `bias_bits`: biases and BatchNorm shifts (added once per output, into an
      exact accumulator);
    * `activation_bits`: every layer output (Linear, Conv2d, BatchNorm, ReLU,
      add, average pooling);
    * `input_bits` (default `activation_bits`) and `input_signed`: the model input;
      `input_binary_point`: "calibrated" (by `calibrate`, else by the first training
      batch, then frozen: no input-gradient GEMM), "learned" (from the loss) or "fixed";
    * `khot`: K for K-hot weights and BatchNorm scales (no multiplier); `binary`:
      weights of -1 and +1 (BatchNorm scales stay fixed point), with
      `binary_scale` a quantized per-channel scale alpha = mean |W| (XNOR-Net);
    * `rounding`, `overflow`: the `ap_fixed` modes of every type;
    * `layers`: per-layer overrides, `{name: {field: value}}`, where name is the
      layer's name in the converted model (see `describe_types`): a module's
      qualified name, a function call's graph node name, or "input".
    """

    weight_bits: int = 8
    bias_bits: int = 16
    activation_bits: int = 8
    input_bits: int | None = None
    input_signed: bool = True
    input_binary_point: str = "calibrated"
    khot: int | None = None
    binary: bool = False
    binary_scale: bool = False
    rounding: str = "AP_RND_CONV"
    overflow: str = "AP_SAT"
    layers: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def __post_init__(self):
        for name in _WIDTH_FIELDS:
            value = getattr(self, name)
            if value is None and name == "input_bits":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"QFXConfig: {name} must be an integer >= 2, got {value!r}")
        if self.khot is not None:
            try:
                khot_projection(self.khot)  # the one rule for a valid K
            except ValueError as err:
                raise ValueError(f"QFXConfig: {err}") from None
        if self.input_binary_point not in BINARY_POINTS:
            raise ValueError(f"QFXConfig: input_binary_point must be one of {', '.join(BINARY_POINTS)}, "
                             f"got {self.input_binary_point!r}")
        if self.binary and self.khot is not None:
            raise ValueError("QFXConfig: weights cannot be both binary and K-hot")
        try:
            FixedType(8, 0, True, self.rounding, self.overflow)
        except ValueError as err:
            raise ValueError(f"QFXConfig: {err}") from None
        overridable = {f.name for f in fields(self)} - {"layers"}
        for layer, overrides in self.layers.items():
            unknown = set(overrides) - overridable
            if unknown:
                raise ValueError(
                    f"QFXConfig: layer {layer!r} overrides unknown fields {sorted(unknown)}; "
                    f"supported: {', '.join(sorted(overridable))}"
                )

    @classmethod
    def of(cls, config: "QFXConfig | Mapping | None") -> "QFXConfig":
        """A config from a `QFXConfig`, a dict of its fields, or None (the defaults)."""
        if config is None:
            return cls()
        if isinstance(config, cls):
            return config
        if isinstance(config, Mapping):
            known = {f.name for f in fields(cls)}
            unknown = set(config) - known
            if unknown:
                raise ValueError(f"QFXConfig: unknown fields {sorted(unknown)}; supported: {', '.join(sorted(known))}")
            return cls(**config)
        raise ValueError(f"quantize_model: config must be a QFXConfig, a dict or None, got {type(config).__name__}")

    def for_layer(self, name: str) -> "QFXConfig":
        """This config with `layers[name]`'s overrides applied."""
        return replace(self, **self.layers.get(name, {}), layers={})

    def typed(self, width: int, default: str, signed: bool | None = None) -> FixedType:
        """A type of `width` bits with this config's modes, starting from the integer bits
        (and, unless `signed` is given, the signedness) of the `default` spelling."""
        start = FixedType.parse(default)
        return FixedType(width, start.int_bits, start.signed if signed is None else signed,
                         self.rounding, self.overflow)
