"""A QLinear's training step in one autograd node: weight and bias quantized, the exact
sum, the bias added, the output quantized, forward and backward together.

Unfused, a QLinear records up to eight autograd nodes (the weight and bias quantizer,
the transposed weight, the matrix product, two dtype conversions, the bias add, the
output quantizer and a last conversion); on a small layer their overhead, not the
arithmetic, is what a step spends. This node does the same operations in the same
order: the forward calls what `QLinear.forward` calls, the backward what PyTorch's
autograd formulas call for each of those nodes (`mm`'s, `sum_to_size` for the
broadcast bias, `to` for each conversion) and the quantizers' own backward
(`learned_point_backward`), so every value and gradient is bit for bit the unfused
one (tests compare them with `==`).

It serves the common training case, and `QLinear` takes its unfused path for the rest:
a 2-D contiguous float32 or float64 CPU input, weight and bias of its dtype, every
binary point learned, no K-hot or binary weights, the exact accumulator (no `acc=`,
no wider than float64 holds) summed in one pass.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fxhls.fixed.quantize import check_exact
from fxhls.qfx.fusion import mark_computed
from fxhls.qfx.quantizer import learned_point_backward, learned_point_forward, smallest_positive
from fxhls.qfx.typed import exact_dtype, tag, type_of


def linear_in_one_node(layer, x: torch.Tensor, relu=None) -> torch.Tensor | None:
    """`layer(x)` for a `QLinear` in one autograd node, or None where the node does not
    serve (see the module's docstring). With `relu` (a QReLU fused after the layer, see
    `fusion`), `relu(layer(x))` in that node, marked as the QReLU's output."""
    if not _serves(layer, x):
        return None
    quantizers = (layer.weight_quantizer, layer.bias_quantizer, layer.output_quantizer)
    relu_point = None if relu is None else relu.output_quantizer.int_bits
    types = (*(q.type for q in quantizers), None if relu is None else relu.output_type)
    layer.input_type = type_of(x)
    dtypes = _dtypes(layer, x, types)
    if dtypes is None:
        return None
    y = _LinearNode.apply(types, *dtypes, x, layer.weight, layer.bias, *(q.int_bits for q in quantizers), relu_point)
    if relu is None:
        return tag(y, types[2])
    return mark_computed(tag(y, types[3]), relu)


def _dtypes(layer, x: torch.Tensor, types) -> tuple[torch.dtype, torch.dtype] | None:
    """(the dtype of the exact sum, the accumulator's dtype) for this input, as the unfused
    path picks them, or None where it would sum float32 slices or the accumulator is wider
    than float64 holds. Derived once per input type, types and dtype (kept in the layer's
    `_one_node_plans`)."""
    plans = layer.__dict__.setdefault("_one_node_plans", {})
    key = (layer.input_type, types, x.dtype, layer.weight.shape)
    if key not in plans:
        for t, dtype in zip(types[:2], (layer.weight.dtype, layer.bias.dtype)):
            check_exact(t, dtype)
        sum_dtype = layer._sum_dtype(x)
        acc_dtype = exact_dtype(layer._exact_acc_type(), x.dtype)
        check_exact(types[2], acc_dtype)
        if types[3] is not None:
            check_exact(types[3], x.dtype)
        plans[key] = None if sum_dtype is None or layer._wide_acc() else (sum_dtype, acc_dtype)
    return plans[key]


def _serves(layer, x: torch.Tensor) -> bool:
    if not torch.is_grad_enabled() or x.dim() != 2 or not x.is_contiguous() or x.device.type != "cpu":
        return False
    if x.dtype not in (torch.float32, torch.float64) or layer.bias is None or layer.binary:
        return False
    if layer.weight.dtype != x.dtype or layer.bias.dtype != x.dtype or layer.user_acc_type is not None:
        return False
    if layer.weight_quantizer.project is not None:
        return False
    return all(q._learning() for q in (layer.weight_quantizer, layer.bias_quantizer, layer.output_quantizer))


class _LinearNode(torch.autograd.Function):
    """`apply(types, sum_dtype, acc_dtype, x, weight, bias, weight_point, bias_point,
    output_point, relu_point)`: quantize(x @ quantize(weight).T + quantize(bias)) with
    `types` the weight's, bias's, output's and a fused ReLU's (or None), the product taken
    in `sum_dtype` (exact there), the bias added and the output quantized in `acc_dtype`;
    the result in x's dtype, then, with a ReLU, quantized to its type as
    `FixedQuantizer.relu` does."""

    @staticmethod
    def forward(ctx, types, sum_dtype, acc_dtype, x, weight, bias, weight_point, bias_point, output_point,
                relu_point):
        weight_type, bias_type, output_type, relu_type = types
        w, w_kernel = learned_point_forward(weight, weight_type)
        b, b_kernel = learned_point_forward(bias, bias_type)
        x_sum, w_sum = _to(x, sum_dtype), _to(w, sum_dtype)
        total = _to(F.linear(x_sum, w_sum), acc_dtype) + _to(b, acc_dtype)
        y, y_kernel = learned_point_forward(total, output_type)
        out, relu_out, relu_kernel = _to(y, x.dtype), None, None
        if relu_type is not None:
            relu_out, relu_kernel = learned_point_forward(out, relu_type)
        ctx.save_for_backward(x_sum, w_sum, weight, w, bias, b, total, y, out, relu_out)
        ctx.types, ctx.kernels, ctx.x_dtype = types, (w_kernel, b_kernel, y_kernel, relu_kernel), x.dtype
        return out if relu_out is None else relu_out

    @staticmethod
    def backward(ctx, grad):
        x_sum, w_sum, weight, w, bias, b, total, y, out, relu_out = ctx.saved_tensors
        weight_type, bias_type, output_type, relu_type = ctx.types
        w_kernel, b_kernel, y_kernel, relu_kernel = ctx.kernels
        needs_grad_x, needs_grad_weight, needs_grad_bias = ctx.needs_input_grad[3:6]
        grad_relu_point = None
        if relu_type is not None:
            grad, grad_relu_point = learned_point_backward(out, relu_out, grad, relu_type,
                                                           smallest_positive(out.dtype), relu_kernel, True)
        grad_total, grad_output_point = learned_point_backward(total, y, _to(grad, total.dtype), output_type,
                                                               output_type.min, y_kernel, True)
        grad_b = _to(grad_total.sum_to_size(b.shape), b.dtype)
        grad_x_sum, grad_w_sum_t = _mm_backward(_to(grad_total, x_sum.dtype), x_sum, w_sum.t(), needs_grad_x)
        grad_x = _to(grad_x_sum, ctx.x_dtype) if needs_grad_x else None
        grad_w = _to(grad_w_sum_t.t(), w.dtype)
        grad_weight, grad_weight_point = learned_point_backward(weight, w, grad_w, weight_type, weight_type.min,
                                                                w_kernel, needs_grad_weight, grad_is_ours=True)
        grad_bias, grad_bias_point = learned_point_backward(bias, b, grad_b, bias_type, bias_type.min, b_kernel,
                                                            needs_grad_bias)
        return (None, None, None, grad_x, grad_weight, grad_bias, grad_weight_point, grad_bias_point,
                grad_output_point, grad_relu_point)


def _to(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """tensor.to(dtype) (the same tensor when it has that dtype), without the call's cost
    when there is nothing to convert: a step makes ten such calls per layer."""
    return tensor if tensor.dtype == dtype else tensor.to(dtype)


def _mm_backward(grad: torch.Tensor, a: torch.Tensor, b: torch.Tensor, needs_grad_a: bool):
    """The gradients of a.mm(b) (for a only if `needs_grad_a`) as PyTorch's autograd computes
    them (`mm_mat1_backward`, `mm_mat2_backward`): the product's layout follows a
    column-major operand's."""
    grad_a = None
    if needs_grad_a:
        grad_a = b.mm(grad.t()).t() if _column_major(a) else grad.mm(b.t())
    grad_b = grad.t().mm(a).t() if _column_major(b) else a.t().mm(grad)
    return grad_a, grad_b


def _column_major(m: torch.Tensor) -> bool:
    return m.stride(0) == 1 and m.stride(1) == m.shape[0]
