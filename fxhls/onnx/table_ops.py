"""ONNX element-wise non-linear activations -> IR Table (`fxhls.ir.ops.table`).

Sigmoid, Tanh, HardSigmoid, Elu, Selu, Softplus and Exp become a lookup table over
their input's grid. The table's output type is the `table_type` attribute that
`fxhls.onnx.float_types` gives the node in a float model (its output type from
`--default-type` or the config); a node without one is refused in one line.
"""

from __future__ import annotations

from fxhls.fixed import FixedType
from fxhls.ir import Node
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.ops.table import FUNCTIONS, refusal

from .context import ImportContext, OnnxNode

TYPE_ATTRIBUTE = "table_type"


def _table(ctx: ImportContext, n: OnnxNode) -> None:
    if TYPE_ATTRIBUTE not in n.attrs:
        raise n.refuse(f"a {n.op_type} is a lookup table and needs an output type, which only a float model "
                       f"gets (from --default-type T or a config output); in a quantized model it is not "
                       f"supported yet")
    params = {name: float(n.attrs[name]) for name in FUNCTIONS[n.op_type][1] if name in n.attrs}
    x = ctx.operand(n.inputs[0], n)
    reason = refusal(n.op_type, ctx.tensors[x].type)
    if reason:
        raise n.refuse(reason)
    attrs = {"function": n.op_type, **params, **type_attrs(FixedType.parse(n.attrs[TYPE_ATTRIBUTE]))}
    ctx.add(Node("Table", n.name, [x], n.outputs[:1], attrs), n)


CONVERTERS = {op: _table for op in FUNCTIONS}
