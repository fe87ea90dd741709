"""Layers that change a tensor's shape, join tensors or scale by a constant, as
`quantize_model` writes them.

`QConcat` is `torch.cat` along a sample axis, each input first quantized to the output
type (the joined tensor has one type). `QReshape` is `x.view(...)`/`x.reshape(...)` with the sizes the model computes (from
`x.size(0)` or `x.shape[0]`), `QSqueeze` and `QUnsqueeze` are `x.squeeze(dim)` and `x.unsqueeze(dim)`: they
move values and keep their type. `QScale` is `x * c`
(or `x / d`, c = 1/d) with the constant quantized like a weight: the product is exact and
then quantized to the output type.
"""

from __future__ import annotations

import torch
from torch import nn

from fxhls.fixed import FixedType, result_type
from fxhls.qfx.elementwise import _Quantized, _keep_type
from fxhls.qfx.quantizer import FixedQuantizer, errors_name
from fxhls.qfx.typed import exact_dtype, tag, type_of


class QReshape(nn.Module):
    """`x.reshape(*shape)`, the shape given at each call; the type is the input's."""

    def forward(self, x: torch.Tensor, *shape) -> torch.Tensor:
        return _keep_type(x.reshape(*shape), x)


class QSqueeze(nn.Module):
    """`x.squeeze(dim)` (every axis of size 1 when `dim` is None); the type is the input's."""

    def __init__(self, dim: int | tuple[int, ...] | None = None):
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _keep_type(x.squeeze() if self.dim is None else x.squeeze(self.dim), x)


class QUnsqueeze(nn.Module):
    """`x.unsqueeze(dim)`; the type is the input's."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _keep_type(x.unsqueeze(self.dim), x)


class QScale(_Quantized):
    """x times the constant `constant` (quantized to `constant_type`), quantized to `output`."""

    def __init__(self, constant, constant_type, output):
        super().__init__()
        self.register_buffer("constant", torch.as_tensor(constant, dtype=torch.float32).clone())
        with errors_name(self):
            self.constant_quantizer = FixedQuantizer(constant_type)
        self._setup_output(output)

    @property
    def constant_type(self) -> FixedType:
        return self.constant_quantizer.type

    def quantized_constant(self) -> torch.Tensor:
        return self.constant_quantizer(self.constant)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, x_type = self.quantized_constant(), type_of(x)
        exact = result_type("mul", x_type, self.constant_type) if x_type is not None else None
        dtype = exact_dtype(exact, x.dtype)
        return self._finish(x.to(dtype) * c.to(dtype), x.dtype)


class QConcat(_Quantized):
    """torch.cat(inputs, dim) along a sample axis; each input is quantized to `output` first."""

    def __init__(self, dim: int, output):
        super().__init__()
        if dim == 0:
            raise ValueError("QConcat: dim 0 is the batch axis; concatenate along a sample axis")
        self.dim = dim
        self._setup_output(output)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        dtype = inputs[0].dtype
        return tag(torch.cat([self.output_quantizer(x).to(dtype) for x in inputs], self.dim), self.output_type)
