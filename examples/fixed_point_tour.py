"""A short tour of fxhls.fixed: ap_fixed arithmetic, bit for bit, in PyTorch.

Run: .venv/bin/python examples/fixed_point_tour.py
"""

import torch

from fxhls.fixed import FixedType, dot, quantize, result_type

weights_t = FixedType.parse("ap_fixed<8,1,AP_RND_CONV,AP_SAT>")
inputs_t = FixedType.parse("ap_ufixed<8,4>")
print(f"weights: {weights_t}  range [{weights_t.min}, {weights_t.max}]  lsb {weights_t.lsb}")
print(f"inputs:  {inputs_t}  range [{inputs_t.min}, {inputs_t.max}]  lsb {inputs_t.lsb}")

torch.manual_seed(0)
w = quantize(torch.randn(4, 16) * 0.5, weights_t)
x = quantize(torch.rand(16) * 10, inputs_t)
print("a weight row:", w[0, :6].tolist())
print("the input:   ", x[:6].tolist())

product_t = result_type("mul", weights_t, inputs_t)
print(f"C++ type of weight * input: {product_t}")

exact_acc = FixedType(product_t.width + 4, product_t.int_bits + 4)
narrow_acc = FixedType.parse("ap_fixed<10,4,AP_RND,AP_SAT>")
print(f"dot with {exact_acc} (never rounds): {dot(w, x, exact_acc).tolist()}")
print(f"dot with {narrow_acc} (rounds and saturates at every step): {dot(w, x, narrow_acc).tolist()}")
