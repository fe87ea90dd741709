"""QLinear and QConv2d: weight layers that compute what the generated hardware computes.

Weights and bias are quantized (optionally K-hot or binary), each product is
exact and the sum runs in the accumulator type. By default the accumulator is
exact (wide enough never to round or overflow), so the sum is taken at once,
exactly (in float32 slices or float64, see `_exact_sum`); a narrower accumulator given by the user is emulated
step by step in HLS order (`acc_t s = bias; for (k) s += w[k] * x[k];`, k running
over input features, or over (channel, kernel row, kernel column) for a
convolution), with the exact sum's gradient. The output is quantized to
`output`'s type. An accumulator wider than float64 holds (53 bits) is exact too: the
output is then cast from it in integers (`fxhls.fixed.dot_with_bias` with `out`),
with the gradient of the float64 sum.
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from fxhls.fixed import BINARY_TYPE, FixedType, accumulator_type, dot_with_bias
from fxhls.fixed.formats import fits_exactly
from fxhls.qfx import single_channel_conv
from fxhls.qfx.binary import binary_sign
from fxhls.qfx.fusion import fused_relu
from fxhls.qfx.khot import khot_projection
from fxhls.qfx.linear_node import linear_in_one_node
from fxhls.qfx.quantizer import FixedQuantizer, errors_name
from fxhls.qfx.typed import exact_dtype, tag, type_of

DEFAULT_WEIGHT = "ap_fixed<8,1,AP_RND_CONV,AP_SAT>"
DEFAULT_BIAS = "ap_fixed<16,4,AP_RND_CONV,AP_SAT>"
DEFAULT_OUTPUT = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"
DEFAULT_BINARY_SCALE = "ap_ufixed<8,0,AP_RND_CONV,AP_SAT>"
FLOAT32_SIGNIFICAND = 24
MAX_SLICES = 16  # beyond this many float32 slices, one float64 pass is faster


class _QuantizedWeights:
    """What QLinear, QConv2d and QConv1d share: weight, bias and output quantizers, the
    accumulator and `forward`. A layer gives `_map(x, w)` (its map without the bias) and
    `_stepwise(x, w, b, acc, out=None)` (the same in HLS order through `dot_with_bias`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total, w, b = self._accumulate(x, self._map, self._stepwise)
        return self._finish(total, x, w, b)

    def _setup_quantizers(self, weight, bias_type, output, acc, khot, binary, binary_scale):
        with errors_name(self):
            self._build_quantizers(weight, bias_type, output, acc, khot, binary, binary_scale)

    def _build_quantizers(self, weight, bias_type, output, acc, khot, binary, binary_scale):
        if acc is not None and getattr(self, "groups", 1) != 1:
            raise ValueError(f"a narrowed accumulator (acc=) needs groups=1, got groups={self.groups}")
        if binary and khot is not None:
            raise ValueError("a binary layer cannot also be K-hot")
        if binary_scale and not binary:
            raise ValueError("binary_scale needs binary=True")
        self.khot, self.binary = khot, binary
        project = khot_projection(khot) if khot is not None else None
        self.weight_quantizer = None if binary else FixedQuantizer(weight, project=project)
        self.binary_scale_quantizer = FixedQuantizer(DEFAULT_BINARY_SCALE) if binary_scale else None
        self.bias_quantizer = FixedQuantizer(bias_type) if self.bias is not None else None
        self.output_quantizer = FixedQuantizer(output)
        self.user_acc_type = FixedType.parse(acc) if acc is not None else None
        self.input_type: FixedType | None = None

    @property
    def weight_type(self) -> FixedType:
        """The weights' type: for a binary layer -1 and +1 (ap_int<2>), or +-alpha with a
        per-channel scale alpha (its type with a sign bit added)."""
        if self.binary_scale_quantizer is not None:
            alpha = self.binary_scale_quantizer.type
            return FixedType(alpha.width + 1, alpha.int_bits + 1)
        return BINARY_TYPE if self.binary else self.weight_quantizer.type

    @property
    def bias_type(self) -> FixedType | None:
        return self.bias_quantizer.type if self.bias_quantizer is not None else None

    @property
    def output_type(self) -> FixedType:
        return self.output_quantizer.type

    @property
    def fan_in(self) -> int:
        return math.prod(self.weight.shape[1:])

    @property
    def acc_type(self) -> FixedType | None:
        """The accumulator: the user's, or the exact one (None until the input type is known)."""
        return self.user_acc_type or self._exact_acc_type()

    def _exact_acc_type(self) -> FixedType | None:
        if self.input_type is None:
            return None
        return accumulator_type(self.input_type, self.weight_type, self.fan_in, self.bias_type)

    def quantized_weight(self) -> torch.Tensor:
        """The weights the hardware holds (differentiable: straight-through). A binary layer
        with `binary_scale` holds sign(W) and, per output channel, alpha = mean |W|
        quantized (XNOR-Net); the hardware counts with the signs, then multiplies by alpha."""
        if not self.binary:
            return self.weight_quantizer(self.weight)
        signs = binary_sign(self.weight)
        if self.binary_scale_quantizer is None:
            return signs
        alpha = self.weight.abs().mean(dim=tuple(range(1, self.weight.dim())), keepdim=True)
        return signs * self.binary_scale_quantizer(alpha)

    def quantized_bias(self) -> torch.Tensor | None:
        return self.bias_quantizer(self.bias) if self.bias_quantizer is not None else None

    def _quantized_weight_and_bias(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`quantized_weight()` and `quantized_bias()`, together in one autograd node where
        they can be (`FixedQuantizer.quantize_together`)."""
        if self.binary or self.bias_quantizer is None:
            return self.quantized_weight(), self.quantized_bias()
        w, b = FixedQuantizer.quantize_together([self.weight_quantizer, self.bias_quantizer], [self.weight, self.bias])
        return w, b

    def _accumulate(self, x: torch.Tensor, apply, stepwise):
        """The accumulator's value: the exact sum of apply(x, w) (the layer's map without
        bias) plus the bias, or stepwise(x, w, b, acc) for a user's accumulator. It comes in
        x's dtype when the exact accumulator type fits it, else in float64. Returns it with
        the quantized weights and bias."""
        self.input_type = type_of(x)
        w, b = self._quantized_weight_and_bias()
        dtype = exact_dtype(self._exact_acc_type(), x.dtype)
        with _exact_cuda_kernels(x.device):
            total = self._exact_sum(x, w, apply).to(dtype)
        if b is not None:
            total = total + self._broadcast_bias(b.to(dtype))
        if self.user_acc_type is None or self._wide_acc():
            return total, w, b  # a wide accumulator's values come in `_finish`
        with torch.no_grad():
            emulated = stepwise(x.double(), w.double(), None if b is None else b.double(), self.user_acc_type)
        return total + (emulated.to(dtype) - total).detach(), w, b

    def _wide_acc(self) -> bool:
        """Whether the accumulator is wider than float64 holds exactly."""
        return self.acc_type is not None and not fits_exactly(self.acc_type, torch.float64)

    def _exact_sum(self, x: torch.Tensor, w: torch.Tensor, apply) -> torch.Tensor:
        """apply(x, w) exactly: in float32 (fast) over slices of input channels small enough
        that no partial sum exceeds 2**24 units (each product is at most the product of
        the largest codes), or in float64 when the types are too wide or unknown. Each
        slice's result is exact, and so is their sum in float64."""
        dtype = self._sum_dtype(x)
        if dtype is not None:
            return apply(x.to(dtype), w.to(dtype))
        channels = self._float32_channels(x)
        slices = range(0, w.shape[1], channels)
        return sum(apply(x[:, i : i + channels], w[:, i : i + channels]).double() for i in slices)

    def _sum_dtype(self, x: torch.Tensor) -> torch.dtype | None:
        """The dtype in which `_exact_sum` computes apply(x, w) in one pass (x's, or float64),
        or None where it sums float32 slices of the input channels."""
        in_channels = self.weight.shape[1]
        channels = self._float32_channels(x)
        if channels >= in_channels:
            return x.dtype
        if channels * MAX_SLICES >= in_channels and getattr(self, "groups", 1) == 1:  # slices cut no group
            return None
        return torch.float64

    def _float32_channels(self, x: torch.Tensor) -> int:
        """How many input channels one exact float32 pass of the sum may take: no partial sum
        past 2**24 units. 0 unless x is float32 and its type known."""
        if x.dtype != torch.float32 or self.input_type is None:
            return 0
        per_channel = math.prod(self.weight.shape[2:])  # kernel positions per input channel; 1 for a linear layer
        largest_product = _largest_code(self.input_type) * _largest_code(self.weight_type)
        return 2**FLOAT32_SIGNIFICAND // (largest_product * per_channel)

    def _finish(self, total: torch.Tensor, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        """The output: `total` quantized to the output type. With a wide accumulator, whose
        sum float64 only approximates, the values are those of the sum cast exactly
        (`_stepwise` with `out`), the gradient that of `total`."""
        y = self.output_quantizer(total)
        if self._wide_acc():
            with torch.no_grad():
                exact = self._stepwise(x.double(), w.double(), None if b is None else b.double(), self.acc_type,
                                       self.output_type)
            y = y + (exact.to(y.dtype) - y).detach()
        return tag(y.to(x.dtype), self.output_type)


class QLinear(_QuantizedWeights, nn.Linear):
    """`nn.Linear` in fixed point: `output = q_out(acc(x @ q_w(W).T + q_b(b)))`."""

    def __init__(self, in_features, out_features, bias=True, weight=DEFAULT_WEIGHT,
                 output=DEFAULT_OUTPUT, khot=None, binary=False, bias_type=DEFAULT_BIAS, acc=None,
                 binary_scale=False):
        super().__init__(in_features, out_features, bias=bias)
        self._setup_quantizers(weight, bias_type, output, acc, khot, binary, binary_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self._in_one_node(x, fused_relu(self))
        return super().forward(x) if y is None else y

    def _in_one_node(self, x: torch.Tensor, relu=None) -> torch.Tensor | None:
        """forward(x) in one autograd node where it serves (`linear_node`), else None; with
        `relu` (a QReLU fused after this layer, `fusion`), that QReLU's output."""
        return linear_in_one_node(self, x, relu)

    def _map(self, x, w):
        return F.linear(x, w)

    def _stepwise(self, x, w, b, acc, out=None):
        return dot_with_bias(x, w, b, acc, out)

    def _broadcast_bias(self, b):
        return b  # features are the last dimension


class QConv2d(_QuantizedWeights, nn.Conv2d):
    """`nn.Conv2d` in fixed point (zero padding; `groups` as in PyTorch, depthwise included)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 weight=DEFAULT_WEIGHT, output=DEFAULT_OUTPUT, khot=None, binary=False,
                 bias_type=DEFAULT_BIAS, acc=None, binary_scale=False, groups=1):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias,
                         groups=groups)
        self._setup_quantizers(weight, bias_type, output, acc, khot, binary, binary_scale)

    def _broadcast_bias(self, b):
        return b.view(-1, 1, 1)  # channels are dimension 1

    def _map(self, x, w):
        if self.groups != 1:
            return F.conv2d(x, w, None, self.stride, self.padding, groups=self.groups)
        return single_channel_conv.conv2d(x, w, self.stride, self.padding)

    def _stepwise(self, x, w, b, acc, out=None):
        n, _, height, width = x.shape
        patches = F.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)
        rows = dot_with_bias(patches.transpose(1, 2), w.flatten(1), b, acc, out)
        out_h = (height + 2 * self.padding[0] - self.kernel_size[0]) // self.stride[0] + 1
        out_w = (width + 2 * self.padding[1] - self.kernel_size[1]) // self.stride[1] + 1
        return rows.transpose(1, 2).reshape(n, -1, out_h, out_w)


class QConv1d(_QuantizedWeights, nn.Conv1d):
    """`nn.Conv1d` in fixed point (zero padding, `groups` as in PyTorch): a QConv2d over
    an image of one row, and so exported."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 weight=DEFAULT_WEIGHT, output=DEFAULT_OUTPUT, khot=None, binary=False,
                 bias_type=DEFAULT_BIAS, acc=None, binary_scale=False, groups=1):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias,
                         groups=groups)
        self._setup_quantizers(weight, bias_type, output, acc, khot, binary, binary_scale)

    def _broadcast_bias(self, b):
        return b.view(-1, 1)  # channels are dimension 1

    def _map(self, x, w):
        return F.conv1d(x, w, None, self.stride, self.padding, groups=self.groups)

    def _stepwise(self, x, w, b, acc, out=None):
        (kernel,), (stride,), (padding,) = self.kernel_size, self.stride, self.padding
        patches = F.unfold(x.unsqueeze(2), (1, kernel), padding=(0, padding), stride=(1, stride))
        rows = dot_with_bias(patches.transpose(1, 2), w.flatten(1), b, acc, out)
        return rows.transpose(1, 2)


def _largest_code(t: FixedType) -> int:
    return max(-t.min_code, t.max_code)


def _exact_cuda_kernels(device: torch.device):
    """On CUDA, cuDNN may pick Winograd or FFT convolutions and TF32 products, which
    round; the native im2col + GEMM kernels with TF32 off sum exactly."""
    if device.type != "cuda":
        return contextlib.nullcontext()
    return torch.backends.cudnn.flags(enabled=False, allow_tf32=False)
