"""The fxhls IR: a typed graph, its ops, passes on it, and its exact execution."""

from .execute import execute
from .graph import Graph, Node, Tensor
from .ops import OPS
from .passes import infer_types, lower_for_hardware

__all__ = ["Graph", "Node", "Tensor", "OPS", "infer_types", "lower_for_hardware", "execute"]
