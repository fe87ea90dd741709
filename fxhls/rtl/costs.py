"""Estimates of a compute layer's logic before synthesis: its longest path in LUT levels
(to pipeline its dot product within the board's clock) and its LUTs and DSP slices (to
fold the model within the board's resources, `fxhls.rtl.budget`).

The figures are fits to yosys `synth_xilinx -family xcup` without flattening, counted as
`fxhls report` counts them (`fxhls.rtl.netlist`: each LUT on a path is a level, carry
chains and wide multiplexers none); `bench/mvu_cost.py` measures them and prints the fit next to each
measurement.
"""

from __future__ import annotations

import math

from .compute import MvuConfig


def product_levels(kind: str, k: int = 1, shift_bits: int = 1, x_pad: int = 0) -> int:
    """LUT levels of one lane's product (fxhls_mvu_dot's products, from the beat and
    weight registers): K-hot, the negation, a multiplexer of 2**shift_bits positions
    (ceil(shift_bits / 2) levels) and 2 levels per further term (yosys: K=1, 2, 3 with
    3-bit shifts take 3, 5, 7 levels; 2-bit shifts with K=2 4, 4-bit 5); a multiplier is
    a DSP slice, then 1 level; XNOR 1. Padding flags mask the products: 1 more. With the
    adder tree's levels (and XNOR's last subtraction) this gives the LUT levels of each
    unpipelined MVU of `bench/mvu_cost.py` exactly (7 to 10)."""
    if kind == "khot":
        levels = 1 + math.ceil(shift_bits / 2) + 2 * (k - 1)
    else:
        levels = 1
    return levels + (1 if x_pad else 0)


def dot_stage(kind: str, simd: int, budget: int, k: int = 1, shift_bits: int = 1, x_pad: int = 0) -> int:
    """The adder levels between the dot product's pipeline registers (`MvuConfig.dot_stage`)
    that keep each clock's path within `budget` LUT levels: 0 (no register) where the
    products and the adder tree over SIMD lanes (one level per adder level; XNOR one more
    after it) fit, else the products registered and every `budget` (XNOR: budget - 1) levels."""
    tail = 1 if kind == "xnor" else 0
    if product_levels(kind, k, shift_bits, x_pad) + math.ceil(math.log2(simd)) + tail <= budget:
        return 0
    return max(1, budget - tail)


def mvu_dot_stage(mvu: MvuConfig, budget: int) -> int:
    """`dot_stage` of an MVU's kind, SIMD, terms and padding flags."""
    return dot_stage(mvu.lanes.kind, mvu.simd, budget, mvu.lanes.k, mvu.lanes.shift_bits, mvu.x_pad)


# LUTs of fxhls_mvu: the constants of `mvu_lut_terms`'s terms (K-hot shift multiplexers,
# K-hot term adders, a multiplier lane's adder-tree bits, an XNOR lane, a neuron's
# accumulator bit), a least-squares fit to yosys 0.23 (`synth_xilinx -family xcup`, per
# module) on the ten MVUs of `bench/mvu_cost.py` (which prints each one's measurement
# next to this model: within 0.92x to 1.2x).
MVU_LUT = (0.823, 0.956, 1.341, 2.984, 9.894)
# LUTs of fxhls_window: per read-port bit and 64 buffer entries (its LUT RAM and read
# multiplexers), and a constant; fitted likewise on the four windows there (0.89x to 1.22x).
WINDOW_LUT = (2.134, 192.3)
# A LUT ROM's bits per LUT (a LUT6 holds 64 bits; not fitted).
ROM_BITS_PER_LUT = 64


def mvu_lut_terms(kind: str, simd: int, pe: int, x_bits: int, k: int, shift_bits: int, w_bits: int,
                  acc_bits: int) -> tuple[float, ...]:
    """The terms MVU_LUT weighs, for SIMD * PE lanes: K-hot's K terms of LANE_W bits each
    through a multiplexer of 2**shift_bits positions (per level: 2**shift_bits / shift_bits)
    and through an adder; a multiplier lane's product bits (its adder tree; the product is
    a DSP slice); an XNOR lane (its popcount); then the PE neurons' accumulator bits."""
    lanes = simd * pe
    khot_mux = khot_adders = mul_tree = xnor_lanes = 0.0
    if kind == "khot":
        lane_bits = x_bits + 2 + (1 << shift_bits) + math.ceil(math.log2(k))  # fxhls_khot_products's LANE_W
        khot_mux = lanes * k * lane_bits * (1 << shift_bits) / shift_bits
        khot_adders = lanes * k * lane_bits
    elif kind == "xnor":
        xnor_lanes = lanes
    else:
        mul_tree = lanes * (x_bits + w_bits + 3)  # fxhls_mul_products's PRODUCT_W
    return (khot_mux, khot_adders, mul_tree, xnor_lanes, pe * acc_bits)


def window_lut_terms(lanes: int, x_bits: int, entries: int, taps: int) -> tuple[float, ...]:
    """The terms that WINDOW_LUT weighs: the read ports' bits (TAPS of SIMD_C lanes) per 64
    buffer entries; 1."""
    return (taps * lanes * x_bits * math.ceil(entries / 64), 1)


def layer_luts(layer) -> int:
    """Estimated LUTs of a compute layer (`fxhls.rtl.layers.ComputeLayer`): its MVU, its
    ROMs of more than one word (a one-word ROM is a constant), its vector buffers (NF > 1,
    LUT RAM) and its window generator."""
    mvu = layer.mvu
    terms = mvu_lut_terms(mvu.lanes.kind, mvu.simd, mvu.pe, mvu.x_bits, mvu.lanes.k, mvu.lanes.shift_bits,
                          mvu.lanes.bits, mvu.acc.width)
    luts = sum(c * t for c, t in zip(MVU_LUT, terms))
    for words, bits in ((mvu.weight_words, mvu.weight_word_bits), (mvu.neuron_words, mvu.neuron_word_bits)):
        if len(words) > 1:
            luts += len(words) * bits / ROM_BITS_PER_LUT
    if mvu.nf > 1:
        luts += 2 * mvu.sf * mvu.in_bits / ROM_BITS_PER_LUT
    if layer.window is not None:
        window = layer.window
        entries = window.rows * (1 << math.ceil(math.log2(window.width))) * (window.channels // window.simd)
        terms = window_lut_terms(window.simd, window.x_bits, entries, window.taps)
        luts += sum(c * t for c, t in zip(WINDOW_LUT, terms))
    return round(luts)


def layer_dsps(layer) -> int:
    """Estimated DSP slices of a compute layer: one per lane of a multiplier layer (yosys
    maps each product of fxhls_mul_products to one), none for K-hot and XNOR."""
    return layer.mvu.simd * layer.mvu.pe if layer.mvu.lanes.kind == "mul" else 0
