"""The fixed-point semantics of Vitis HLS `ap_fixed`, on numpy arrays and PyTorch tensors.

The single source of numeric truth in fxhls: rounding, overflow, result types
and accumulation order are defined here and nowhere else. Importing it does not
import torch: the PyTorch implementations load when a tensor comes in.
"""

from .exact import exact_type
from .accumulate import dot, dot_codes, dot_with_bias
from .arith import accumulator_type, common_type, reciprocal, result_type
from .formats import check_exact
from .quantize import quantize
from .types import BINARY_TYPE, OVERFLOW_MODES, ROUNDING_MODES, FixedType

__all__ = [
    "FixedType",
    "ROUNDING_MODES",
    "OVERFLOW_MODES",
    "quantize",
    "check_exact",
    "result_type",
    "dot",
    "dot_with_bias",
    "dot_codes",
    "accumulator_type",
    "common_type",
    "reciprocal",
    "exact_type",
    "BINARY_TYPE",
]
