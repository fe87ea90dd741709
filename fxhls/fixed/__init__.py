"""The fixed-point semantics of Vitis HLS `ap_fixed`, as PyTorch operations.

The single source of numeric truth in fxhls: rounding, overflow, result types
and accumulation order are defined here and nowhere else.
"""

from .exact import exact_type
from .arith import accumulator_type, dot, dot_with_bias, reciprocal, result_type
from .quantize import check_exact, quantize
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
    "accumulator_type",
    "reciprocal",
    "exact_type",
    "BINARY_TYPE",
]
