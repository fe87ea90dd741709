"""`fuse(model)`: a QReLU that follows a QLinear or QBatchNorm computed inside that layer's
training node.

Unfused, a QReLU is one more autograd node and one more pass each way over its input;
its own cost on a small layer is mostly PyTorch's for running a Python autograd
Function (about 30 us), on a large one the passes over memory. A fused pair computes
the same: the layer's node quantizes its output and then quantizes that as the QReLU
does (`FixedQuantizer.relu`), and its backward runs the ReLU quantizer's backward before
its own, so every value and gradient is bit for bit the unfused one. The QReLU keeps its
parameter and state, and returns the tensor it is given when the layer has already
computed its output.

Where fusion is detected: `fuse(model)` marks the pairs, in the model's `nn.Sequential`
containers (there a layer's output goes to the next module and nowhere else, which the
fusion needs) and, for a torch.fx GraphModule such as `quantize_model` returns (which
calls `fuse` itself), in its graph: a layer call whose one user is a QReLU call. A layer
or QReLU that appears in two places (shared) is left alone. A hand-built model trains
unfused until `fuse` is called on it: nothing in a layer knows what comes after it,
and PyTorch's containers have no hook for it. A pair runs fused only while the
layer's one-node training path serves (see `QLinear` and
`FixedQuantizer.affine_relu`), the QReLU's type is unsigned and saturating and its binary
point learned, and neither module has forward hooks (a hook would see the layer's output
replaced); otherwise each module computes its own output as before.
"""

from __future__ import annotations

from collections import Counter

import torch
from torch import fx, nn

from fxhls.qfx.quantizer import relu_makes_zeros

_PARTNER = "_fxhls_fused_relu"  # in the layer's __dict__: the QReLU after it (not a submodule)
_COMPUTED_BY = "_fxhls_relu_computed"  # on a tensor: the QReLU whose output it already is


def fuse(model: nn.Module) -> nn.Module:
    """Mark each QLinear or QBatchNorm directly followed by a QReLU in an `nn.Sequential` of
    `model` or in its graph (a torch.fx GraphModule), so that the pair trains in one node
    (see the module's docstring); returns `model`. Values, gradients, parameters and the
    state dict are those of the unfused model."""
    from fxhls.qfx.batchnorm import _QBatchNorm
    from fxhls.qfx.elementwise import QReLU
    from fxhls.qfx.weighted import QLinear

    places = Counter(id(module) for _, module in model.named_modules(remove_duplicate=False))
    for layer, after in _sequential_pairs(model) + _graph_pairs(model):
        if isinstance(layer, (QLinear, _QBatchNorm)) and type(after) is QReLU and places[id(layer)] == 1 \
                and places[id(after)] == 1:
            layer.__dict__[_PARTNER] = after
    return model


def _sequential_pairs(model: nn.Module) -> list[tuple[nn.Module, nn.Module]]:
    pairs = []
    for container in model.modules():
        if isinstance(container, nn.Sequential):
            layers = list(container)
            pairs += zip(layers, layers[1:])
    return pairs


def _graph_pairs(model: nn.Module) -> list[tuple[nn.Module, nn.Module]]:
    """(layer, module) where the graph calls `layer` once and its one user is a call of
    `module` (called once too) on that output alone."""
    if not isinstance(model, fx.GraphModule):
        return []
    calls = [node for node in model.graph.nodes if node.op == "call_module"]
    count = Counter(node.target for node in calls)
    pairs = []
    for node in calls:
        users = list(node.users)
        if count[node.target] != 1 or len(users) != 1:
            continue
        user = users[0]
        if user.op == "call_module" and count[user.target] == 1 and user.args == (node,) and not user.kwargs:
            pairs.append((model.get_submodule(node.target), model.get_submodule(user.target)))
    return pairs


def fused_relu(layer: nn.Module):
    """The QReLU fused after `layer` if the pair may run fused now (see the module's
    docstring), else None."""
    relu = layer.__dict__.get(_PARTNER)
    if relu is None or layer._forward_hooks or relu._forward_pre_hooks or relu._forward_hooks:
        return None
    quantizer = relu.output_quantizer
    if not (quantizer._learning() and quantizer.project is None and relu_makes_zeros(quantizer.type)):
        return None
    return relu


def mark_computed(y: torch.Tensor, relu: nn.Module) -> torch.Tensor:
    """Record that `y` is already `relu`'s output; returns `y`."""
    setattr(y, _COMPUTED_BY, relu)
    return y


def computed_by(x: torch.Tensor, relu: nn.Module) -> bool:
    """Whether `x` is already `relu`'s output (its layer computed it, fused)."""
    return getattr(x, _COMPUTED_BY, None) is relu
