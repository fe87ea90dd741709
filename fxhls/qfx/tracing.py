"""torch.fx tracing shared by `quantize_model` and `export_onnx`.

QFX layers stay leaves of the trace (their insides are the layer's own
computation), and each node records the source line that created it, so a
refusal names the node and where the model's code wrote it.

In-place ops become dataflow: eager PyTorch changes the tensor itself, so every later
reader of it sees the change, where the graph would hand it the old value. `y += z`
(which torch.fx records as `y + z`) is recorded as `operator.iadd`, and the readers of a
tensor after an in-place op on it (`nn.ReLU(inplace=True)`, `F.relu(x, inplace=True)`,
`y.mul_(2)`, `y += z`) read that op's result. A tensor changed in place that is also held
by a view (`v = y.view(...)`) read afterwards is refused: the view would see the change.
"""

from __future__ import annotations

import inspect
import operator
import os
import re

import torch
from torch import fx, nn

_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
# The code torch.fx generates for a GraphModule (a model already traced, as quantize_model
# returns) names each node's own source line: File "<eval_with_key>.3 from /path/m.py:12 in forward"
_GENERATED = re.compile(r"<eval_with_key>[^ ]* from (.+):(\d+) in \S+$")
_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep


IN_PLACE_OPERATORS = {operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.ifloordiv}


class Proxy(fx.Proxy):
    """fx's Proxy, recording `y += z` (-=, *=, /=, //=) as the in-place operator eager PyTorch runs."""


for _op in IN_PLACE_OPERATORS:
    setattr(Proxy, f"__{_op.__name__}__",
            lambda self, other, op=_op: self.tracer.create_proxy("call_function", op, (self, other), {}))


class _Tracer(fx.Tracer):
    def __init__(self, leaves: tuple[type, ...]):
        super().__init__()
        self.record_stack_traces = True
        self.leaves = leaves

    def is_leaf_module(self, m: nn.Module, qualified_name: str) -> bool:
        return isinstance(m, self.leaves) or super().is_leaf_module(m, qualified_name)

    def proxy(self, node: fx.Node) -> fx.Proxy:
        return Proxy(node, self)


def trace(model: nn.Module, caller: str, leaves: tuple[type, ...] = ()) -> fx.GraphModule:
    """The fx graph of `model` (modules of the types `leaves` kept whole) with its in-place
    ops as dataflow, or a ValueError from `caller` when torch.fx cannot trace it (one line)
    or an in-place change reaches a view read later (a line for each)."""
    tracer = _Tracer(leaves)
    try:
        graph = tracer.trace(model)
    except Exception as err:  # tracing errors come in many types; say which model failed
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{caller}: torch.fx cannot trace {type(model).__name__}: {reason}") from err
    graph_module = fx.GraphModule(tracer.root, graph, type(model).__name__)
    problems = _in_place_as_dataflow(graph_module)
    if problems:
        raise ValueError(f"{caller}: " + "\n  ".join(problems))
    return graph_module


# Ops whose result may share the storage of their first argument (an in-place change of one shows in the other).
_VIEW_METHODS = {"view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "contiguous", "view_as",
                 "reshape_as", "transpose", "permute", "expand", "expand_as", "narrow", "select", "t", "detach",
                 "chunk", "split", "unbind", "movedim", "swapaxes", "unfold", "as_strided"}
_VIEW_FUNCTIONS = {torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze, torch.transpose, torch.permute,
                   torch.narrow, torch.select, torch.chunk, torch.split, torch.unbind, torch.movedim, torch.detach,
                   operator.getitem, torch.nn.functional.dropout, torch.nn.functional.dropout1d,
                   torch.nn.functional.dropout2d}
_VIEW_MODULES = (nn.Identity, nn.Flatten, nn.Unflatten, nn.modules.dropout._DropoutNd)


def _in_place_as_dataflow(graph_module: fx.GraphModule) -> list[str]:
    """Make each later reader of a tensor changed in place read the in-place op's result;
    the refusals where a view of that tensor is read after the change."""
    modules = dict(graph_module.named_modules())
    nodes = list(graph_module.graph.nodes)
    order = {node: k for k, node in enumerate(nodes)}
    problems = []
    for node in nodes:
        changed = node.args[0] if node.args else None
        if not isinstance(changed, fx.Node) or not _in_place(node, modules):
            continue
        for reader in list(changed.users):
            if order[reader] > order[node]:
                reader.replace_input_with(changed, node)
        for alias in _aliases(changed, modules) - {changed}:
            # an alias made after the change holds the changed values already
            if order[alias] < order[node] and any(order[reader] > order[node] for reader in alias.users):
                where = source_line(alias)
                problems.append(f"{describe(node, modules.get(node.target))} changes in place a tensor that "
                                f"'{alias.name}'{f' (at {where})' if where else ''} also holds and that is read "
                                f"after it, which the graph would not see; write the change out of place "
                                f"(inplace=False, y = y + z)")
                break
    return problems


def _in_place(node: fx.Node, modules: dict) -> bool:
    """Whether `node` changes its first argument in place."""
    if node.op == "call_module":
        return getattr(modules[node.target], "inplace", False) is True
    if node.op == "call_method":
        return isinstance(node.target, str) and node.target.endswith("_") and not node.target.startswith("_")
    if node.op != "call_function":
        return False
    if node.target in IN_PLACE_OPERATORS:
        return True
    try:  # functions with an `inplace` argument (F.relu(x, inplace=True), F.leaky_relu(x, 0.1, True)...)
        bound = inspect.signature(node.target).bind(*node.args, **node.kwargs)
    except (TypeError, ValueError):
        return False
    return bound.arguments.get("inplace") is True


def _is_view(node: fx.Node, modules: dict) -> bool:
    if node.op == "call_module":
        return isinstance(modules[node.target], _VIEW_MODULES)
    if node.op == "call_method":
        return node.target in _VIEW_METHODS
    return node.op == "call_function" and node.target in _VIEW_FUNCTIONS


def _aliases(node: fx.Node, modules: dict) -> set[fx.Node]:
    """The nodes that may hold `node`'s storage: what it views or changed in place, and what views it."""
    seen, todo = set(), [node]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        if (_is_view(n, modules) or _in_place(n, modules)) and n.args and isinstance(n.args[0], fx.Node):
            todo.append(n.args[0])
        todo += [user for user in n.users if (_is_view(user, modules) or _in_place(user, modules))
                 and user.args and user.args[0] is n]
    return seen


def source_line(node: fx.Node) -> str | None:
    """`file.py:LINE` of the model's code that created `node`, when torch.fx recorded it."""
    frames = [m for m in _FRAME.finditer(node.stack_trace or "")
              if not m.group(1).startswith(_TORCH_DIR) and m.group(1) != __file__]
    if not frames:
        return None
    file, line = frames[-1].groups()
    generated = _GENERATED.match(file)
    if generated:
        file, line = generated.groups()
    return f"{os.path.basename(file)}:{line}"


def callable_name(node: fx.Node) -> str:
    """How an error message names what a function or method node calls."""
    if node.op == "call_method":
        return f".{node.target}()"
    if isinstance(node.target, str):
        return node.target
    module = getattr(node.target, "__module__", None)
    name = getattr(node.target, "__name__", repr(node.target))
    return f"{module}.{name}" if module else name


def describe(node: fx.Node, module: nn.Module | None = None) -> str:
    """`module 'fc' (Linear)` or `node 'mul_' (.mul_())`, with ` at file.py:LINE` when known."""
    if module is not None:
        what = f"module '{node.target}' ({type(module).__name__})"
    else:
        what = f"node '{node.name}' ({node.op} {callable_name(node)})"
    where = source_line(node)
    return f"{what} at {where}" if where else what
