"""fxhls's own ONNX domain -> IR: Quantize and Sign carry over as they are (a Quantize after
an activation gives its table its output type, `table_ops`); Gemm, Conv,
AveragePool and GlobalAveragePool are the standard converters, which keep fxhls's
`acc_type` (a narrowed accumulator) and `reciprocal_type` (1/N as the hardware rounds it);
Softmax is the standard one with its output type given (QSoftmax's export, `softmax_ops`)."""

from __future__ import annotations

from fxhls.ir import Node

from . import softmax_ops, standard_ops, table_ops
from .context import ImportContext, OnnxNode

DOMAIN = "fxhls"
VERSION = 1  # the opset version of DOMAIN these converters read


def _carried_over(op: str):
    def convert(ctx: ImportContext, n: OnnxNode) -> None:
        ctx.add(Node(op, n.name, [ctx.name(n.inputs[0])], n.outputs[:1], dict(n.attrs)), n)

    return convert


def _quantize(ctx: ImportContext, n: OnnxNode) -> None:
    """A cast, or the output type of the table before it (`table_ops`)."""
    if not table_ops.quantized(ctx, n):
        _carried_over("Quantize")(ctx, n)


CONVERTERS = {
    "Quantize": _quantize, "Sign": _carried_over("Sign"),
    "Gemm": standard_ops.gemm, "Conv": standard_ops.conv,
    "AveragePool": standard_ops.average_pool, "GlobalAveragePool": standard_ops.global_average_pool,
    "Softmax": softmax_ops.softmax,
}
