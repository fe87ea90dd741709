"""The passes every hardware backend runs, in order."""

from __future__ import annotations

from ..graph import Graph
from .batchnorm import fold_batchnorm
from .binary_scale import split_binary_scale
from .bnn import fold_bnn_thresholds
from .casts import drop_redundant_casts
from .concat import split_concat
from .constants import fold_constants
from .fuse import fuse_affine, fuse_quantize
from .input_cast import cast_binary_input
from .khot import lower_khot
from .linear import lone_affines, matmul_to_gemm
from .pads import fold_pads
from .slopes import khot_slopes
from .transposes import fold_transposes
from .types import infer_types

STEPS = (cast_binary_input, fold_constants, split_binary_scale, matmul_to_gemm, fold_transposes, fold_pads,
         fuse_affine, lone_affines, fold_batchnorm, drop_redundant_casts, fuse_quantize, khot_slopes, lower_khot,
         fold_bnn_thresholds, split_concat, infer_types)


def lower_for_hardware(graph: Graph) -> Graph:
    """Run `STEPS`: give a binarized float input its input cast; fold weight
    quantizers; split scaled binary weights into -1/+1 and a scale; MatMul by
    constant weights as Gemm; fold the Transposes that only change the layout
    (channels-last models) and zero Pads before a Conv; BatchNorm Mul+Add, and a lone
    per-channel Mul or Add, as an Affine, folded into the layer before it where that is
    exact and free; drop casts that change nothing and fuse the others into their
    stages; give K-hot constants, and PRelu slopes of few non-zero bits, their
    shift-add terms; turn binary layers' BatchNorm and Sign into thresholds; join a
    Concat's inputs two at a time; infer every type. Returns `graph` (changed in
    place), in the form `check_hardware_graph` accepts when its ops are hardware ops."""
    for step in STEPS:
        graph = step(graph)
    return graph
