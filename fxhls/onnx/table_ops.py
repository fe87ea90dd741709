"""ONNX element-wise non-linear activations -> IR Table (`fxhls.ir.ops.table`).

Sigmoid, Tanh, HardSigmoid, Elu, Selu, Softplus and Exp (`fxhls.fixed.functions`) become
a lookup table over their input's grid, which must be typed. The table's output type is
- in a float model, the `table_type` attribute `fxhls.onnx.float_types` gives the node
  (its output type from `--default-type` or the config);
- in a quantized model (fxhls's own ONNX), the type of the fxhls `Quantize` that reads
  it: the table waits in `ImportContext.pending_tables` until that Quantize comes, and
  then is one Table with the Quantize's type (the float64 function, quantized once, as
  QFX's activation layers compute it).
A table read by anything else, or that is a graph output, is refused in one line. In a
QONNX model these ops are steps of a float chain instead (`float_ops`).
"""

from __future__ import annotations

from fxhls.fixed import FixedType
from fxhls.fixed.functions import FUNCTIONS
from fxhls.ir import Node
from fxhls.ir.ops.quantize import node_type, type_attrs
from fxhls.ir.ops.table import refusal

from .context import ImportContext, OnnxNode

TYPE_ATTRIBUTE = "table_type"


def table(ctx: ImportContext, n: OnnxNode) -> None:
    """A Table of the node's function over its typed input: typed now in a float model,
    else pending until the fxhls Quantize after it (`quantized`)."""
    params = {name: float(n.attrs[name]) for name in FUNCTIONS[n.op_type][1] if name in n.attrs}
    x = ctx.operand(n.inputs[0], n)
    reason = refusal(n.op_type, ctx.tensors[x].type)
    if reason:
        raise n.refuse(reason)
    node = Node("Table", n.name, [x], n.outputs[:1], {"function": n.op_type, **params})
    if TYPE_ATTRIBUTE in n.attrs:
        node.attrs.update(type_attrs(FixedType.parse(n.attrs[TYPE_ATTRIBUTE])))
        ctx.add(node, n)
    else:
        ctx.pending_tables[n.outputs[0]] = (node, n)


def quantized(ctx: ImportContext, n: OnnxNode) -> bool:
    """Where the fxhls Quantize `n` reads a pending table: that table, with the Quantize's
    type, computing the Quantize's output (returns True); else False."""
    if n.inputs[0] not in ctx.pending_tables:
        return False
    node, _ = ctx.pending_tables[n.inputs[0]]
    typed = Node("Table", ctx.node_name(node.name), node.inputs, n.outputs[:1],
                 {**node.attrs, **type_attrs(node_type(n.attrs))})
    ctx.add(typed, n)
    return True


def check_reader(ctx: ImportContext, n: OnnxNode, is_quantize: bool) -> None:
    """Refuse `n` where it reads a pending table and is not the fxhls Quantize it needs."""
    for name in n.inputs:
        if name in ctx.pending_tables and not (is_quantize and name == n.inputs[0]):
            raise _unquantized(ctx, name, f"is read by {n.name!r} ({n.qualified_op})")


def check_outputs(ctx: ImportContext, outputs: list[str]) -> None:
    """Refuse a pending table that is a graph output."""
    for name in outputs:
        if name in ctx.pending_tables:
            raise _unquantized(ctx, name, "is a graph output")


def _unquantized(ctx: ImportContext, name: str, what: str) -> ValueError:
    _, n = ctx.pending_tables[name]
    return n.refuse(f"its output {what}; in a quantized model a {n.op_type} is a lookup table whose output type "
                    f"comes from the quantizer that must follow it (an fxhls Quantize, as QFX's activation "
                    f"layers export)")


CONVERTERS = {op: table for op in FUNCTIONS}
