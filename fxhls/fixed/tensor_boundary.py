"""Where PyTorch tensors meet the numpy implementations, without importing torch."""

from __future__ import annotations

import functools
import sys


def is_tensor(x) -> bool:
    """Whether `x` is a PyTorch tensor (never true while torch is not imported)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def tensors_as_arrays(function):
    """Let `function`, which computes on numpy arrays, take PyTorch tensors: each tensor
    argument goes in as an array (detached, on the CPU), and when there was one, the
    array result comes back as a tensor on the first tensor's device."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        tensors = [arg for arg in (*args, *kwargs.values()) if is_tensor(arg)]
        if not tensors:
            return function(*args, **kwargs)
        args = [_as_array(arg) for arg in args]
        kwargs = {key: _as_array(value) for key, value in kwargs.items()}
        return sys.modules["torch"].from_numpy(function(*args, **kwargs)).to(tensors[0].device)

    return wrapper


def _as_array(value):
    return value.detach().cpu().numpy() if is_tensor(value) else value
