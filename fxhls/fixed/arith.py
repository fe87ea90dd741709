"""Arithmetic on fixed-point tensors: C++ result types and accumulation."""
from __future__ import annotations
def dot(a, b, acc):
    raise NotImplementedError
def result_type(op, a, b):
    raise NotImplementedError
