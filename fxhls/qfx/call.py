"""What a rewrite rule of `quantize_model` sees: `Call`, the node with its float module and config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import fx, nn

from fxhls.fixed import FixedType
from fxhls.fixed.exact import exact_type

from fxhls.qfx.config import QFXConfig
from fxhls.qfx.tracing import describe


@dataclass
class Call:
    """What a rule sees: the node, its float module (None for a function), its layer's config.
    A rule returns (QFX layer, input nodes), or (None, (x,)) for a node that is dropped."""

    node: fx.Node
    module: nn.Module | None
    config: QFXConfig
    is_signed: Callable[[fx.Node], bool]  # whether a rewritten node's values may be negative

    def describe(self) -> str:
        return describe(self.node, self.module)

    def unsupported(self, setting: str, supported: str) -> ValueError:
        return ValueError(f"quantize_model: {self.describe()} has {setting}; supported: {supported}")

    def argument(self, position: int, name: str, default=None):
        """An argument of the call, given by position or keyword."""
        if position < len(self.node.args):
            return self.node.args[position]
        return self.node.kwargs.get(name, default)

    def only_input(self) -> tuple[fx.Node]:
        """The one tensor a module is called with."""
        if len(self.node.args) != 1 or self.node.kwargs or not isinstance(self.node.args[0], fx.Node):
            raise self.unsupported("a call with other arguments than one tensor", "one input tensor")
        return (self.node.args[0],)

    def activation(self, default: str, signed: bool | None = None):
        """An output type of `activation_bits`."""
        return self.config.typed(self.config.activation_bits, default, signed)

    def constant_type(self, values) -> FixedType:
        """A constant's type (a scale, a slope): `weight_bits` bits, the binary point where
        `values` fit (each is exact if it fits the width)."""
        fit = exact_type(values, signed=True)
        return FixedType(max(self.config.weight_bits, 2), fit.int_bits, True, self.config.rounding,
                         self.config.overflow)

    def one_tensor(self) -> tuple[fx.Node]:
        """A module's one input, or a function's first argument."""
        return self.only_input() if self.module is not None else (self.argument(0, "input"),)
