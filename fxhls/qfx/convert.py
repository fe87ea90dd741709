"""`quantize_model`: a float PyTorch model rewritten with QFX layers, through torch.fx.

The model is traced symbolically; then each node of its graph is handed to the
rule for its module type or function (one small function each, in `rules`), which
builds the QFX layer, with the float weights and statistics copied in, and names
the nodes it takes as inputs. The node becomes a call of that layer, so the
result computes with QFX layers along the model's own forward structure,
residual adds included. A `QInput` follows the graph input.

A layer is named by its module's qualified name; a function call (F.relu, `+`)
by its graph node. A parameter-free module called more than once (one nn.ReLU
used throughout) gives one layer per call: `relu`, `relu_1`, `relu_2`...
"""

from __future__ import annotations

import operator
from collections import Counter

import torch
from torch import fx, nn

from fxhls.qfx.call import Call
from fxhls.qfx.config import QFXConfig
from fxhls.qfx.elementwise import DEFAULT_INPUT, QInput
from fxhls.qfx.fusion import fuse
from fxhls.qfx.rules import FUNCTION_RULES, METHOD_RULES, MODULE_RULES, SUPPORTED
from fxhls.qfx.rules_weighted import WEIGHTED
from fxhls.qfx.tracing import describe, trace


def quantize_model(model: nn.Module, config: QFXConfig | dict | None = None) -> fx.GraphModule:
    """A copy of the float `model` whose layers are QFX layers with the types of `config`.

    Supported: nn.Linear, nn.Conv2d and nn.Conv1d (grouped and depthwise too, zero
    padding, numeric or symmetric 'same', dilation 1), nn.BatchNorm1d/2d, nn.ReLU,
    ReLU6, LeakyReLU, F.relu / torch.relu, torch.cat along a sample axis, adds of two
    tensors (`+`, torch.add), multiplication or division by a number (`x * 0.5`),
    max and average pooling as modules or functions (average pooling's zero padding counted
    in the divisor, torch's default), nn.AdaptiveAvgPool2d(1) / F.adaptive_avg_pool2d(x, 1) /
    x.mean((2, 3)), nn.AdaptiveAvgPool2d((h, w)) where the sizes divide one another, their
    1-D versions (and x.mean(-1)),
    the table activations (nn.Sigmoid, torch.tanh, ...), softmax on the class axis and
    torch.argmax ending the model, nn.PReLU, nearest upsampling by integer factors
    (nn.Upsample, F.interpolate), zero padding (nn.ZeroPad2d, F.pad), nn.Flatten / torch.flatten /
    view / reshape (sizes from .size() or .shape), nn.Identity and dropout (dropped:
    QFX models compute as at inference); one input tensor. Anything else is one
    ValueError naming every unsupported node and its source line. `model` itself
    is left unchanged. A QReLU right after a QLinear or QBatchNorm trains inside that
    layer's node (`fuse`).
    """
    config = QFXConfig.of(config)
    graph_module = trace(model, "quantize_model")
    inputs = [node for node in graph_module.graph.nodes if node.op == "placeholder"]
    if len(inputs) != 1:
        raise ValueError(f"quantize_model: models with one input tensor are supported; "
                         f"{type(model).__name__}.forward takes {len(inputs)}")
    rewriter = _Rewriter(graph_module, config, _device_of(model))
    problems, unsupported = [], 0
    for node in list(graph_module.graph.nodes):
        try:
            rewriter.rewrite(node)
        except ValueError as err:
            problems.append(str(err).removeprefix("quantize_model: "))
            unsupported += isinstance(err, _Unsupported)
    if len(problems) == 1 and unsupported:
        problems[0] += f"; supported: {SUPPORTED}"
    elif unsupported:  # what is supported, said once
        problems.append(f"supported: {SUPPORTED}")
    if problems:
        raise ValueError("quantize_model: " + "\n  ".join(problems))
    unmatched = set(config.layers) - set(rewriter.names)
    if unmatched:
        raise ValueError(f"quantize_model: config.layers names {sorted(unmatched)}, which match no layer; "
                         f"layers are: {', '.join(rewriter.names)}")
    graph = graph_module.graph
    graph.lint()
    # Rebuilt so that the layers are registered (and listed) in execution order.
    layers = {node.target: graph_module.get_submodule(node.target) for node in graph.nodes if node.op == "call_module"}
    return fuse(fx.GraphModule(layers, graph, class_name=type(model).__name__).train(model.training))


class _Unsupported(ValueError):
    """A node no rule rewrites (the error says what is supported once, after every such node)."""


class _Rewriter:
    """Replaces the nodes of a traced model, in graph order, by calls of QFX layers."""

    def __init__(self, graph_module: fx.GraphModule, config: QFXConfig, device: torch.device):
        self.graph_module, self.graph = graph_module, graph_module.graph
        self.config, self.device = config, device
        self.calls = Counter(node.target for node in self.graph.nodes if node.op == "call_module")
        self.calls_rewritten: Counter = Counter()
        self.float_modules = dict(graph_module.named_modules())  # as traced, before any is replaced
        self.signed: dict[fx.Node, bool] = {}
        self.names: list[str] = []

    def rewrite(self, node: fx.Node) -> None:
        if node.op == "output" or _is_size(node):
            return
        if node.op == "placeholder":
            self._quantize_input(node)
            return
        rule, module, name = self._rule(node)
        layer, inputs = rule(Call(node, module, self.config.for_layer(name), self._is_signed))
        if layer is None:  # dropped at inference: its users read its input
            node.replace_all_uses_with(inputs[0])
            self.graph.erase_node(node)
        else:
            self._replace(node, name, layer, inputs)

    def _is_signed(self, node: fx.Node) -> bool:
        # a node refused earlier (its error is reported) is taken as signed
        return self.signed.get(node, True)

    def _rule(self, node: fx.Node):
        """(rule, float module or None, layer name) for a node, or a ValueError naming it."""
        if node.op == "call_module":
            module = self.float_modules[node.target]
            rule = MODULE_RULES.get(type(module))
            if rule is None:
                raise _Unsupported(f"quantize_model: {describe(node, module)} is not supported")
            if self.calls[node.target] > 1 and isinstance(module, WEIGHTED):
                raise ValueError(f"quantize_model: module '{node.target}' ({type(module).__name__}) is called "
                                 f"{self.calls[node.target]} times; a layer with weights must be called once")
            call = self.calls_rewritten[node.target]
            self.calls_rewritten[node.target] += 1
            return rule, module, node.target if call == 0 else self._free_name(f"{node.target}_{call}")
        rules = FUNCTION_RULES if node.op == "call_function" else METHOD_RULES if node.op == "call_method" else {}
        rule = rules.get(node.target)
        if rule is None:
            raise _Unsupported(f"quantize_model: {describe(node)} is not supported")
        return rule, None, self._free_name(node.name)

    def _quantize_input(self, node: fx.Node) -> None:
        name = self._free_name("input")
        config = self.config.for_layer(name)
        width = config.input_bits if config.input_bits is not None else config.activation_bits
        layer = QInput(config.typed(width, DEFAULT_INPUT, config.input_signed), config.input_binary_point)
        self._install(name, layer)
        with self.graph.inserting_after(node):
            quantized = self.graph.call_module(name, (node,))
        node.replace_all_uses_with(quantized, delete_user_cb=lambda user: user is not quantized)
        self.signed[quantized] = config.input_signed

    def _replace(self, node: fx.Node, name: str, layer: nn.Module, inputs: tuple[fx.Node, ...]) -> None:
        self._install(name, layer)
        with self.graph.inserting_after(node):
            call = self.graph.call_module(name, tuple(inputs))
        node.replace_all_uses_with(call)
        self.graph.erase_node(node)
        quantizer = getattr(layer, "output_quantizer", None)
        # A layer without an output quantizer (max pooling, flatten, reshape) moves values: its input's sign.
        self.signed[call] = quantizer.signed if quantizer is not None else self._is_signed(inputs[0])

    def _install(self, name: str, layer: nn.Module) -> None:
        self.graph_module.add_submodule(name, layer.to(self.device))
        self.names.append(name)

    def _free_name(self, base: str) -> str:
        """`base`, or `base_1`, `base_2`...: the first name (dotted or not) the model does not use yet."""
        name, k = base, 0
        while self._taken(name):
            k += 1
            name = f"{base}_{k}"
        return name

    def _taken(self, name: str) -> bool:
        parent, _, leaf = name.rpartition(".")
        try:
            return hasattr(self.graph_module.get_submodule(parent), leaf)
        except AttributeError:
            return False


def _device_of(model: nn.Module) -> torch.device:
    tensor = next(iter(model.parameters()), None)
    if tensor is None:
        tensor = next(iter(model.buffers()), None)
    return tensor.device if tensor is not None else torch.device("cpu")


_SIZE_ARITHMETIC = {operator.add, operator.sub, operator.mul, operator.floordiv, operator.getitem, operator.iadd,
                    operator.isub, operator.imul, operator.ifloordiv}


def _is_size(node: fx.Node) -> bool:
    """Whether `node` computes a size, not a tensor: x.size(), x.dim(), x.shape, and indexing
    or integer arithmetic on those (they feed view/reshape and stay as they are)."""
    if node.op == "call_method":
        return node.target in ("size", "dim")
    if node.op != "call_function":
        return False
    if node.target is getattr:
        return node.args[1] in ("shape", "ndim")
    operands = [a for a in node.args if isinstance(a, fx.Node)]
    return node.target in _SIZE_ARITHMETIC and bool(operands) and all(_is_size(a) for a in operands)
