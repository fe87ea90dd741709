"""Passes: plain functions on a `Graph`, each testable alone.

`lower_for_hardware` runs the ones every backend wants, in order; afterwards the
graph is in the form the HLS, RTL and deploy backends consume: the input cast, then
one node per hardware stage, with typed constants and the output cast of each stage
in its `out_type` attribute.
"""

from .batchnorm import fold_batchnorm
from .binary_scale import split_binary_scale
from .bnn import fold_bnn_thresholds
from .casts import drop_redundant_casts
from .check import check_hardware_graph
from .concat import split_concat
from .constants import fold_constants
from .fuse import fuse_affine, fuse_quantize
from .host_edges import split_host_edges
from .input_cast import cast_binary_input
from .khot import lower_khot
from .linear import lone_affines, matmul_to_gemm
from .pads import fold_pads
from .slopes import khot_slopes
from .transposes import fold_transposes
from .pipeline import lower_for_hardware
from .types import infer_types

__all__ = [  # in the order lower_for_hardware runs them, then the check backends run
    "cast_binary_input", "fold_constants", "split_binary_scale", "matmul_to_gemm", "fold_transposes", "fold_pads",
    "fuse_affine", "lone_affines", "fold_batchnorm", "drop_redundant_casts", "fuse_quantize", "khot_slopes",
    "lower_khot", "fold_bnn_thresholds", "split_concat", "infer_types",
    "lower_for_hardware", "check_hardware_graph", "split_host_edges",
]
