"""The ONNX nodes of each QFX layer, and of the shape-only ops between layers.

`OnnxWriter` collects nodes and initializers; `layer` writes one QFX layer under
its module path (the scope of its node names), `reshape` one shape-only op.
"""

from __future__ import annotations

import numpy as np
import torch
from onnx import helper, numpy_helper

from fxhls.fixed import FixedType
from fxhls.fixed.exact import exact_type
from fxhls.ir.ops.quantize import type_attrs
from fxhls.qfx import (QAdaptiveAvgPool1d, QAdaptiveAvgPool2d, QAdd, QArgMax, QAvgPool1d, QAvgPool2d, QBatchNorm1d,
                       QBatchNorm2d, QConv2d, QInput, QLinear, QMaxPool1d, QMaxPool2d, QPad, QPReLU, QReLU, QSign,
                       QSoftmax, QUpsample)
from fxhls.qfx.activations import ACTIVATIONS
from fxhls.qfx.adaptive_pool import QAdaptiveAvgPool2dTiled
from fxhls.qfx.elementwise import RECIPROCAL_TYPE
from fxhls.qfx.pools1d import QMean
from fxhls.qfx.relu_variants import RELU6_CEILING, QLeakyReLU, QReLU6
from fxhls.qfx.reshape import QConcat, QScale
from fxhls.qfx.weighted import QConv1d

DOMAIN = "fxhls"
# The QFX layers written here (QFlatten and QReshape only move values: shape-only ops).
LAYERS = (QInput, QLinear, QConv2d, QConv1d, QReLU, QSign, QBatchNorm1d, QBatchNorm2d, QMaxPool2d, QAdd, QAvgPool2d,
          QAdaptiveAvgPool2d, QScale, QReLU6, QLeakyReLU, QPReLU, QConcat, *ACTIVATIONS, QSoftmax, QArgMax,
          QMaxPool1d, QAvgPool1d, QAdaptiveAvgPool1d, QMean, QAdaptiveAvgPool2dTiled, QUpsample, QPad)


class OnnxWriter:
    """The nodes and initializers of the graph so far; `scope` is the path of the layer being written."""

    def __init__(self):
        self.nodes, self.initializers = [], []
        self.scope = ""
        self._names: set[str] = set()  # of nodes, values and initializers
        self._scopes: set[str] = set()

    def unique(self, name: str, taken: set[str] | None = None) -> str:
        """`name`, or `name_2`, `name_3`, ... if it is in `taken` (default: the names so far)."""
        taken = self._names if taken is None else taken
        candidate, count = name, 1
        while candidate in taken:
            count += 1
            candidate = f"{name}_{count}"
        taken.add(candidate)
        return candidate

    def node(self, op, inputs, domain="", role="", **attrs) -> str:
        """Add node `scope/[role/]op`; returns the name of its output."""
        name = self.unique("/".join(filter(None, (self.scope, role, op))))
        out = self.unique(f"{name}:0")
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, domain=domain, **attrs))
        return out

    def quantize(self, x: str, t, role="", **facts) -> str:
        return self.node("Quantize", [x], domain=DOMAIN, role=role, **type_attrs(t), **facts)

    def constant(self, values: torch.Tensor, t, role: str, **facts) -> str:
        """Initializer `scope.role` holding `values`, read through its Quantize node."""
        name = self.unique(f"{self.scope}.{role}")
        self.initializers.append(numpy_helper.from_array(values.detach().double().numpy(), name))
        return self.quantize(name, t, role=role, **facts)

    def number(self, value: float, role: str) -> str:
        """Initializer `scope.role` holding `value`, read through a Quantize to the narrowest
        type that holds it exactly."""
        return self.constant(torch.tensor(value), exact_type([value]), role)

    def layer(self, path: str, module, inputs: list[str], samples: list[tuple[int, ...]],
              types: list[FixedType | None]) -> str:
        """Write QFX layer `module` (module path `path`) reading the values `inputs`, whose
        samples have the shapes `samples` and whose values the `types` (None: untagged);
        returns the name of its output. A layer ONNX cannot express as computed is a
        ValueError saying why."""
        self.scope, self.samples, self.types = self.unique(path, self._scopes), samples, types
        self.ranks = [len(sample) for sample in samples]
        return getattr(self, "_" + type(module).__name__)(module, inputs)

    def reshape(self, path: str, x: str, before: tuple[int, ...], after: tuple[int, ...]) -> str:
        """Write a shape-only op taking a sample of shape `before` to `after`; returns its output
        (`x` itself when the shape does not change)."""
        if after == before:
            return x
        self.scope = self.unique(path, self._scopes)
        if len(after) == 1:
            return self.node("Flatten", [x], axis=1)
        return self.node("Reshape", [x, self.shape_constant([0, *after], "shape")])

    def shape_constant(self, shape: list, role: str, dtype=np.int64) -> str:
        """Initializer `scope.role` holding `shape` (a Reshape's target, a Pad's pads: int64;
        a Resize's scales: float32), used as it is."""
        name = self.unique(f"{self.scope}.{role}")
        self.initializers.append(numpy_helper.from_array(np.array(shape, dtype=dtype), name))
        return name

    def on_row_image(self, x: str, write) -> str:
        """`write(image)` (a 2-D op) over the one-row image (N, C, 1, L) of the sequence `x`
        (N, C, L), reshaped back to a sequence: how the IR serves 1-D layers."""
        image = self.node("Reshape", [x, self.shape_constant([0, 0, 1, -1], "image")], role="image")
        return self.node("Reshape", [write(image), self.shape_constant([0, 0, -1], "rows")], role="rows")

    def _QInput(self, m, x):
        return self.quantize(x[0], m.output_type)

    def _weighted(self, m, x, op, weight_view=lambda w: w, **attrs):
        weight = weight_view(m.quantized_weight())
        inputs = [x[0], self.constant(weight, m.weight_type, "weight", **_weight_facts(m))]
        if m.bias is not None:
            inputs.append(self.constant(m.quantized_bias(), m.bias_type, "bias"))
        if m.user_acc_type is not None:
            acc = self.node(op, inputs, domain=DOMAIN, acc_type=str(m.user_acc_type), **attrs)
        else:
            acc = self.node(op, inputs, **attrs)
        return self.quantize(acc, m.output_type)

    def _QLinear(self, m, x):
        if self.ranks[0] == 1:
            return self._weighted(m, x, "Gemm", transB=1)
        # a sample with leading dimensions (..., in): ONNX Gemm takes matrices only
        if m.user_acc_type is not None:
            raise ValueError("a narrowed accumulator (acc=) is exported for a vector input only, "
                             f"not for a sample of {self.ranks[0]} dimensions")
        weight = self.constant(m.quantized_weight().T, m.weight_type, "weight", **_weight_facts(m))
        acc = self.node("MatMul", [x[0], weight])
        if m.bias is not None:
            acc = self.node("Add", [acc, self.constant(m.quantized_bias(), m.bias_type, "bias")])
        return self.quantize(acc, m.output_type)

    def _QConv2d(self, m, x):
        ph, pw = m.padding
        groups = {"group": m.groups} if m.groups != 1 else {}
        return self._weighted(m, x, "Conv", kernel_shape=list(m.kernel_size), strides=list(m.stride),
                              pads=[ph, pw, ph, pw], **groups)

    def _QConv1d(self, m, x):
        (kernel,), (stride,), (padding,) = m.kernel_size, m.stride, m.padding
        groups = {"group": m.groups} if m.groups != 1 else {}
        return self.on_row_image(x[0], lambda image: self._weighted(
            m, [image], "Conv", weight_view=lambda w: w.unsqueeze(2), kernel_shape=[1, kernel], strides=[1, stride],
            pads=[0, padding, 0, padding], **groups))

    def _QReLU(self, m, x):
        return self.quantize(self.node("Relu", x), m.output_type)

    def _QSign(self, m, x):
        return self.node("Sign", x, domain=DOMAIN)

    def _max_pool(self, m, x, kernel, stride, padding, sizes):
        """MaxPool over the image `x` (spatial `sizes`); torch's padding and ceil_mode (which
        pad with -inf) as a zero Pad before it, where the input is never negative."""
        if m.dilation not in (1, (1,), (1, 1)):
            raise ValueError(f"dilation={m.dilation}, which the IR's MaxPool does not have; supported: dilation 1")
        ends = [p + _ceil_mode_extra(n, k, s, p) if m.ceil_mode else p
                for n, k, s, p in zip(sizes, kernel, stride, padding)]
        if any(padding) or any(ends):
            t = self.types[0]
            if t is None or t.signed:
                raise ValueError(f"padding={m.padding}, ceil_mode={m.ceil_mode} over {t or 'untyped values'}: "
                                 "torch pads with -inf, which zeros equal only where the input is never negative; "
                                 "supported: an unsigned input (after a ReLU), or no padding and ceil_mode=False")
            x = [self.node("Pad", [x[0], self.shape_constant([0, 0, *padding, 0, 0, *ends], "pads")],
                           mode="constant")]
        return self.node("MaxPool", x, kernel_shape=list(kernel), strides=list(stride))

    def _QMaxPool2d(self, m, x):
        pair = torch.nn.modules.utils._pair
        return self._max_pool(m, x, pair(m.kernel_size), pair(m.stride), pair(m.padding), self.samples[0][1:])

    def _QMaxPool1d(self, m, x):
        single = torch.nn.modules.utils._single
        return self.on_row_image(x[0], lambda image: self._max_pool(
            m, [image], (1, *single(m.kernel_size)), (1, *single(m.stride)), (0, *single(m.padding)),
            (1, *self.samples[0][1:])))

    def _average(self, m, x, op, **attrs):
        # fxhls.fixed.reciprocal applies the type only where 1/N is not a power of two
        node = self.node(op, x, domain=DOMAIN, reciprocal_type=str(RECIPROCAL_TYPE), **attrs)
        return self.quantize(node, m.output_type)

    def _QAvgPool2d(self, m, x):
        if any(m.padding):  # zeros that count in the divisor: a zero Pad, then the average over whole windows
            (top, left) = m.padding
            x = [self.node("Pad", [x[0], self.shape_constant([0, 0, top, left, 0, 0, top, left], "pads")],
                           mode="constant")]
        return self._average(m, x, "AveragePool", kernel_shape=list(m.kernel_size), strides=list(m.stride))

    def _QAdaptiveAvgPool2dTiled(self, m, x):
        window, repeats = m.grid(tuple(self.samples[0][1:]))
        y = self._average(m, x, "AveragePool", kernel_shape=list(window), strides=list(window))
        return self._resize(y, repeats) if repeats != (1, 1) else y

    def _QAvgPool1d(self, m, x):
        return self.on_row_image(x[0], lambda image: self._average(
            m, [image], "AveragePool", kernel_shape=[1, m.kernel_size], strides=[1, m.stride]))

    def _QAdaptiveAvgPool2d(self, m, x):
        y = self._average(m, x, "GlobalAveragePool")
        return y if m.keepdim else self.node("Flatten", [y], axis=1)

    def _QAdaptiveAvgPool1d(self, m, x):
        if not m.keepdim:  # (N, C, 1, 1) to (N, C)
            image = self.node("Reshape", [x[0], self.shape_constant([0, 0, 1, -1], "image")], role="image")
            return self.node("Flatten", [self._average(m, [image], "GlobalAveragePool")], axis=1)
        return self.on_row_image(x[0], lambda image: self._average(m, [image], "GlobalAveragePool"))

    def _QMean(self, m, x):
        # an AveragePool whose window is the whole averaged axis of the image (a sequence: one
        # row), reshaped to the sample torch's mean gives
        channels, *spatial = self.samples[0]
        k = m.axis(len(spatial) + 2) - 2  # the averaged axis among the spatial ones
        image, (x,) = spatial, x
        if len(spatial) == 1:
            image, k = [1, *spatial], 1
            x = self.node("Reshape", [x, self.shape_constant([0, 0, 1, -1], "image")], role="image")
        window = [n if a == k else 1 for a, n in enumerate(image)]
        mean = self._average(m, [x], "AveragePool", kernel_shape=window, strides=window)
        kept = [1 if a == k else n for a, n in enumerate(image) if a != k or m.keepdim]
        kept = kept[1:] if len(spatial) == 1 and kept else kept
        return self.node("Reshape", [mean, self.shape_constant([0, 0, *kept], "shape")], role="shape")

    def _QReLU6(self, m, x):
        # clamp(x, 0, 6) = relu(x) - relu(x - 6), in ops every reader of ONNX knows
        below = self.node("Relu", x)
        above = self.node("Relu", [self.node("Add", [x[0], self.number(-RELU6_CEILING, "ceiling")])])
        clipped = self.node("Add", [below, self.node("Mul", [above, self.number(-1.0, "minus_one")])])
        return self.quantize(clipped, m.output_type)

    def _slope(self, m, x):
        # ONNX PRelu with the quantized slope (one, or one per channel shaped to broadcast
        # over a sample): the IR's exact PRelu, then the output's Quantize
        slope = m.quantized_slope().detach().reshape(-1)
        if slope.numel() > 1:
            slope = slope.view(-1, *[1] * (self.ranks[0] - 1))
        prelu = self.node("PRelu", [x[0], self.constant(slope, m.slope_type, "slope")])
        return self.quantize(prelu, m.output_type)

    _QLeakyReLU = _QPReLU = _slope

    def _QSoftmax(self, m, x):
        # fxhls's own Softmax: the IR Softmax with the output type and the internal types the
        # layer was given (those left out are the IR's defaults for the output type on import too)
        return self.node("Softmax", x, domain=DOMAIN, axis=1, **m.node_attrs())

    def _QArgMax(self, m, x):
        return self.node("ArgMax", x, axis=1, keepdims=int(m.keepdim))

    def _resize(self, image: str, scales) -> str:
        """Nearest upsampling of `image` by the integer `scales` of its spatial axes."""
        factors = self.shape_constant([1.0, 1.0, *scales], "scales", np.float32)
        return self.node("Resize", [image, "", factors], mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor")

    def _QUpsample(self, m, x):
        if self.ranks[0] == 2:  # a sequence (C, L): as an image of one row
            return self.on_row_image(x[0], lambda image: self._resize(image, (1, *m.scales(1))))
        return self._resize(x[0], m.scales(2))

    def _QPad(self, m, x):
        return self.node("Pad", [x[0], self.shape_constant(m.onnx_pads(self.ranks[0] + 1), "pads")], mode="constant")

    def _activation(self, m, x):
        # the standard op with its (float32) parameters; the importer makes it a table
        return self.quantize(self.node(m.FUNCTION, x, **m.params), m.output_type)

    _QSigmoid = _QTanh = _QHardSigmoid = _QELU = _QSELU = _QSoftplus = _QExp = _activation

    def _QConcat(self, m, x):
        axis = m.dim if m.dim > 0 else m.dim + self.ranks[0] + 1
        return self.node("Concat", [self.quantize(name, m.output_type) for name in x], axis=axis)

    def _QScale(self, m, x):
        constant = self.constant(m.quantized_constant(), m.constant_type, "constant")
        return self.quantize(self.node("Mul", [x[0], constant]), m.output_type)

    def _QAdd(self, m, x):
        return self.quantize(self.node("Add", x), m.output_type)

    def _QBatchNorm(self, m, x):
        scale, shift = m.quantized_affine()
        shape = [-1] + [1] * (self.ranks[0] - 1)  # one per channel: (C,), (C, 1) or (C, 1, 1)
        facts = {"khot": m.khot} if m.khot is not None else {}
        product = self.node("Mul", [x[0], self.constant(scale.view(shape), m.scale_type, "scale", **facts)])
        total = self.node("Add", [product, self.constant(shift.view(shape), m.shift_type, "shift")])
        return self.quantize(total, m.output_type)

    _QBatchNorm1d = _QBatchNorm2d = _QBatchNorm


def _ceil_mode_extra(size: int, kernel: int, stride: int, padding: int) -> int:
    """The padding at the end that makes floor-mode pooling give ceil_mode's windows: torch
    rounds the window count up, dropping a last window that would start in the end padding."""
    count = -(-(size + 2 * padding - kernel) // stride) + 1
    if (count - 1) * stride >= size + padding:
        count -= 1
    return max(0, (count - 1) * stride + kernel - size - 2 * padding)


def _weight_facts(m) -> dict:
    """The Quantize attributes a weight carries besides its type: K-hot's K, or binary."""
    return {"khot": m.khot} if m.khot is not None else {"binary": 1} if m.binary else {}
