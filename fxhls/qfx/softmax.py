"""QSoftmax and QArgMax: the class of a sample, as the IR's Softmax and ArgMax compute it.

`QSoftmax` computes the IR Softmax's fixed-point algorithm (`fxhls.ir.ops.softmax`: the
max-subtracted exp table, the sum cast to the sum type, the reciprocal table, the product
cast to the output type) by running that op's own execution on the layer's input codes, so
there is one implementation; its output type is the output quantizer's (its binary point
learned, calibrated or fixed like any QFX output), its internal types (`exp_type`,
`sum_type`, `reciprocal_type`) fixed: given, or the IR's defaults for the output type and
the class count. The gradient is PyTorch's softmax's, through the output quantizer
(straight through: the values are the algorithm's).

Both work over the class axis: dim 1 of an (N, C) or an (N, C, H, W) batch (per pixel), or
-1 of an (N, C) batch. `QArgMax` is for inference (an index has no gradient) and ends a
model: the index of the largest value, ties to the lowest, as `torch.argmax` returns it.
"""

from __future__ import annotations

import torch
from torch import nn

from fxhls.fixed import FixedType
from fxhls.ir import Node
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.ops.softmax import Softmax, check, softmax_types
from fxhls.qfx.activations import DEFAULT_UNIT
from fxhls.qfx.elementwise import _Quantized
from fxhls.qfx.quantizer import errors_name
from fxhls.qfx.typed import tag, type_of


def class_axis_error(layer: str, dim, rank: int) -> str | None:
    """Why `dim` of a batch of `rank` axes is not a class axis the IR takes, or None."""
    if rank not in (2, 4):
        return (f"{layer}: its input has {rank} axes; supported: (N, C) (over C) and (N, C, H, W) (over C per "
                f"pixel)")
    if not isinstance(dim, int) or not -rank <= dim < rank or dim % rank != 1:
        return f"{layer}: dim={dim!r} of a {rank}-axis input; supported: the class axis (dim=1, or -1 on (N, C))"
    return None


class QSoftmax(_Quantized):
    """softmax(x, dim) over the class axis in the IR Softmax's fixed-point algorithm,
    quantized to `output`; `exp_type`, `sum_type`, `reciprocal_type` (None: the IR's
    default for the output type and the class count) are its internal types."""

    def __init__(self, dim: int = 1, output=DEFAULT_UNIT, exp_type=None, sum_type=None, reciprocal_type=None):
        super().__init__()
        self.dim = dim
        with errors_name(self):
            given = {"exp_type": exp_type, "sum_type": sum_type, "reciprocal_type": reciprocal_type}
            self.internal_types = {name: FixedType.parse(t) for name, t in given.items() if t is not None}
        self._setup_output(output)

    def extra_repr(self) -> str:
        return ", ".join([f"dim={self.dim}", *(f"{name}={t}" for name, t in self.internal_types.items())])

    def node_attrs(self) -> dict:
        """The IR Softmax's attributes: the output type, and the internal types given."""
        return {**type_attrs(self.output_type), **{name: str(t) for name, t in self.internal_types.items()}}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        name = type(self).__name__
        x_type = type_of(x)
        if x_type is None:
            raise ValueError(f"{name}: its input has no fixed-point type; put a QFX layer (or QInput) before it")
        error = class_axis_error(name, self.dim, x.dim())
        if error:
            raise ValueError(error)
        node = Node("Softmax", name, ["x"], ["y"], self.node_attrs())
        try:
            check(softmax_types(node, x_type, x.shape[1]))
        except ValueError as err:
            raise ValueError(f"{name}: {err}") from None
        wide = x.double()
        with torch.no_grad():
            (exact,) = Softmax.execute(node, [wide.detach().cpu().numpy()], [x_type])
        y = self.output_quantizer(torch.softmax(wide, 1))
        y = y + (torch.from_numpy(exact).to(y.device) - y).detach()  # the algorithm's values, torch's gradient
        return tag(y.to(x.dtype), self.output_type)


class QArgMax(nn.Module):
    """torch.argmax(x, dim, keepdim) over the class axis (int64 indices; inference only)."""

    def __init__(self, dim: int = 1, keepdim: bool = False):
        super().__init__()
        self.dim, self.keepdim = dim, keepdim

    def extra_repr(self) -> str:
        return f"dim={self.dim}, keepdim={self.keepdim}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        error = class_axis_error(type(self).__name__, self.dim, x.dim())
        if error:
            raise ValueError(error)
        return torch.argmax(x, self.dim, self.keepdim)
