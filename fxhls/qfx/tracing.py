"""torch.fx tracing shared by `quantize_model` and `export_onnx`.

QFX layers stay leaves of the trace (their insides are the layer's own
computation), and each node records the source line that created it, so a
refusal names the node and where the model's code wrote it.
"""

from __future__ import annotations

import os
import re

import torch
from torch import fx, nn

_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep


class _Tracer(fx.Tracer):
    def __init__(self, leaves: tuple[type, ...]):
        super().__init__()
        self.record_stack_traces = True
        self.leaves = leaves

    def is_leaf_module(self, m: nn.Module, qualified_name: str) -> bool:
        return isinstance(m, self.leaves) or super().is_leaf_module(m, qualified_name)


def trace(model: nn.Module, caller: str, leaves: tuple[type, ...] = ()) -> fx.GraphModule:
    """The fx graph of `model` (modules of the types `leaves` kept whole), or a ValueError
    from `caller` in one line when torch.fx cannot trace it."""
    tracer = _Tracer(leaves)
    try:
        graph = tracer.trace(model)
    except Exception as err:  # tracing errors come in many types; say which model failed
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{caller}: torch.fx cannot trace {type(model).__name__}: {reason}") from err
    return fx.GraphModule(tracer.root, graph, type(model).__name__)


def source_line(node: fx.Node) -> str | None:
    """`file.py:LINE` of the model's code that created `node`, when torch.fx recorded it."""
    frames = [m for m in _FRAME.finditer(node.stack_trace or "") if not m.group(1).startswith(_TORCH_DIR)]
    if not frames:
        return None
    file, line = frames[-1].groups()
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
