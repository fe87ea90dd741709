"""Activations computed as lookup tables: QSigmoid, QTanh, QHardSigmoid, QELU, QSELU, QSoftplus, QExp.

The hardware computes each as a table over its input's codes (`fxhls.ir.ops.table`):
the entry of a code is the float64 function of `fxhls.fixed.functions` at the code's
value, quantized to the output type. A QFX activation computes exactly that: the same
function of its input's values (each one a code's value, the input being typed by the
QFX layer before it), then its output quantizer, whose binary point is learned like any
other. The gradient is that of PyTorch's version of the function (straight through:
the values are the table's, the slope torch's).

The input must be typed (a QFX layer or `QInput` before it) and at most
`MAX_TABLE_INPUT_BITS` bits wide. Parameters are float32 numbers, as the exported ONNX
attributes hold them. Two differ from PyTorch's float modules by design: QSELU uses
ONNX's constants (alpha 1.6732632, gamma 1.0507010, float32), and QSoftplus computes
log(1 + e^x) everywhere, where torch's Softplus returns x above its threshold 20 (a
difference below e^-20, 2.1e-9).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fxhls.fixed.functions import MAX_TABLE_INPUT_BITS, evaluate, parameters
from fxhls.qfx.elementwise import DEFAULT_SUM, _Quantized
from fxhls.qfx.typed import type_of

DEFAULT_UNIT = "ap_ufixed<8,1,AP_RND_CONV,AP_SAT>"  # [0, 1]: Sigmoid, HardSigmoid
DEFAULT_SIGNED_UNIT = "ap_fixed<8,2,AP_RND_CONV,AP_SAT>"  # [-1, 1]: Tanh
DEFAULT_POSITIVE = "ap_ufixed<8,3,AP_RND_CONV,AP_SAT>"  # Softplus, Exp


class _Activation(_Quantized):
    """f(x) for the function `FUNCTION` of `fxhls.fixed.functions` with parameters `params`,
    quantized to `output`; `_torch(x)` is PyTorch's f, for the gradient."""

    FUNCTION = ""

    def __init__(self, output, **params):
        super().__init__()
        self.params = parameters(self.FUNCTION, params)
        self._setup_output(output)

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in self.params.items())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_type = type_of(x)
        if x_type is None:
            raise ValueError(f"{type(self).__name__}: its input has no fixed-point type; it computes a table over "
                             f"its input's codes: put a QFX layer (or QInput) before it")
        if x_type.width > MAX_TABLE_INPUT_BITS:
            raise ValueError(f"{type(self).__name__}: its input {x_type} is {x_type.width} bits wide; a table "
                             f"takes at most {MAX_TABLE_INPUT_BITS} bits (narrow the layer before it)")
        wide = x.double()
        with torch.no_grad():
            exact = torch.from_numpy(evaluate(self.FUNCTION, wide.detach().cpu().numpy(), self.params))
        exact = exact.to(x.device)
        slope = self._torch(wide)
        # the values are exact's; the gradient torch's (0 where torch overflows)
        return self._finish(exact + (slope - slope.detach()).nan_to_num(0.0), x.dtype)

    def _torch(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class QSigmoid(_Activation):
    """1 / (1 + e^-x), quantized to `output` (unsigned, [0, 1], by default)."""

    FUNCTION = "Sigmoid"

    def __init__(self, output=DEFAULT_UNIT):
        super().__init__(output)

    def _torch(self, x):
        return torch.sigmoid(x)


class QTanh(_Activation):
    """tanh(x), quantized to `output`."""

    FUNCTION = "Tanh"

    def __init__(self, output=DEFAULT_SIGNED_UNIT):
        super().__init__(output)

    def _torch(self, x):
        return torch.tanh(x)


class QHardSigmoid(_Activation):
    """clip(alpha * x + beta, 0, 1), quantized to `output`; PyTorch's Hardsigmoid by default
    (alpha 1/6, beta 1/2; ONNX's HardSigmoid defaults to alpha 0.2)."""

    FUNCTION = "HardSigmoid"

    def __init__(self, alpha=1 / 6, beta=0.5, output=DEFAULT_UNIT):
        super().__init__(output, alpha=alpha, beta=beta)

    def _torch(self, x):
        return torch.clamp(self.params["alpha"] * x + self.params["beta"], 0.0, 1.0)


class QELU(_Activation):
    """x where x > 0, else alpha * (e^x - 1); quantized to `output`."""

    FUNCTION = "Elu"

    def __init__(self, alpha=1.0, output=DEFAULT_SUM):
        super().__init__(output, alpha=alpha)

    def _torch(self, x):
        return F.elu(x, self.params["alpha"])


class QSELU(_Activation):
    """gamma * ELU(x) with ONNX's alpha and gamma, quantized to `output`."""

    FUNCTION = "Selu"

    def __init__(self, output=DEFAULT_SUM):
        super().__init__(output)

    def _torch(self, x):
        return self.params["gamma"] * F.elu(x, self.params["alpha"])


class QSoftplus(_Activation):
    """log(1 + e^x), quantized to `output` (unsigned by default)."""

    FUNCTION = "Softplus"

    def __init__(self, output=DEFAULT_POSITIVE):
        super().__init__(output)

    def _torch(self, x):
        return F.softplus(x)


class QExp(_Activation):
    """e^x, quantized to `output` (unsigned by default)."""

    FUNCTION = "Exp"

    def __init__(self, output=DEFAULT_POSITIVE):
        super().__init__(output)

    def _torch(self, x):
        return torch.exp(x)


ACTIVATIONS = (QSigmoid, QTanh, QHardSigmoid, QELU, QSELU, QSoftplus, QExp)
