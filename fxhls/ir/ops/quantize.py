"""Quantize: the cast of a value to a FixedType (`ap_fixed` rounding and overflow).

Attributes: width, int_bits, signed, rounding, overflow (all explicit); on weights
optionally `khot` (at most K signed powers of two) or `binary` (values -1, +1),
facts about the values that backends use, with no effect on execution.
"""

from __future__ import annotations

from fxhls.fixed import FixedType, quantize


_TYPE_ATTRIBUTES = ("width", "int_bits", "signed", "rounding", "overflow")


def node_type(attrs: dict) -> FixedType:
    """The FixedType a Quantize node's attributes spell; a ValueError naming a missing one."""
    missing = [name for name in _TYPE_ATTRIBUTES if name not in attrs]
    if missing:
        raise ValueError(f"attribute {missing[0]!r} is missing; a Quantize node has {', '.join(_TYPE_ATTRIBUTES)}")
    return FixedType(attrs["width"], attrs["int_bits"], bool(attrs["signed"]), attrs["rounding"], attrs["overflow"])


def type_attrs(t: FixedType) -> dict:
    """A Quantize node's attributes for type `t`."""
    return {"width": t.width, "int_bits": t.int_bits, "signed": int(t.signed),
            "rounding": t.rounding, "overflow": t.overflow}


class Quantize:
    @staticmethod
    def infer(node, inputs):
        return [(inputs[0].shape, node_type(node.attrs))]

    @staticmethod
    def execute(node, values):
        return [quantize(values[0], node_type(node.attrs))]


OPS = {"Quantize": Quantize}
