"""DIR/rtl/stages.json: what each stage of the generated top computes (its node, types,
weights, K-hot terms, accumulator, folding, estimated clocks per sample and, for a compute
layer, its estimated LUTs and DSP slices, `fxhls.rtl.costs`), written by
`fxhls build` beside the Verilog so that `fxhls report` can put each stage's synthesized
resources next to it."""

from __future__ import annotations

import json
from pathlib import Path

from fxhls.ir.graph import Graph, Node

from .costs import layer_dsps, layer_luts

STAGES_FILE = "stages.json"

_ARITHMETIC = {"mul": "multipliers", "khot": "K-hot shift-add", "xnor": "XNOR-popcount",
               "MulShift": "requantization: multiply-and-shift", "MultiThreshold": "requantization: thresholds"}


def stage_row(graph: Graph, node: Node, name: str, folding: str, clocks: int, layer=None,
              fused: Node | None = None, set_by: str = "") -> dict:
    """The row of stage `name` (its instance in the top) computing `node`; `layer` is the
    `ComputeLayer` of a Gemm or Conv, `fused` the Threshold it computes too (if any),
    `set_by` what chose a compute layer's fold (the user's knob, the target FPS, the budget)."""
    scale = graph.tensor(node.inputs[1]) if node.op in ("Affine", "PRelu") else None
    if layer is not None:
        kind, khot = layer.mvu.lanes.kind, layer.mvu.lanes.k if layer.mvu.lanes.kind == "khot" else None
        weights, accumulator = str(graph.tensor(node.inputs[1]).type), str(layer.mvu.acc)
    elif scale is not None:
        khot = scale.facts["terms"][0].shape[-1] if "terms" in scale.facts else None
        kind, weights, accumulator = "khot" if khot else "mul", str(scale.type), ""
    else:
        kind, khot, weights, accumulator = node.op, None, "", ""
    op = node.op + (f" + {fused.op}" if fused is not None else "")
    estimates = {"lut_estimate": layer_luts(layer), "dsp_estimate": layer_dsps(layer)} if layer is not None else {}
    return {**estimates, "stage": name, "op": op, "node": node.name, "input": str(graph.tensor(node.inputs[0]).type),
            "output": str(graph.tensor((fused or node).outputs[0]).type), "weights": weights,
            "arithmetic": _ARITHMETIC.get(kind, ""), "khot": khot, "accumulator": accumulator,
            "folding": folding, "clocks": clocks, **({"set_by": set_by} if set_by else {})}


def write_stage_rows(rtl: Path, top: str, rows: list[dict]) -> Path:
    """DIR/rtl/stages.json holding `rows` for top module `top`."""
    path = Path(rtl) / STAGES_FILE
    path.write_text(json.dumps({"top": top, "stages": rows}, indent=1) + "\n")
    return path


def read_stage_rows(design_dir, top: str) -> list[dict]:
    """The stage rows `fxhls build` wrote for `top`; none for a DIR/rtl without them (a
    build of an older fxhls, or Verilog written by hand)."""
    path = Path(design_dir) / "rtl" / STAGES_FILE
    if not path.is_file():
        return []
    try:
        saved = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        saved = None
    if not isinstance(saved, dict) or saved.get("top") != top or not isinstance(saved.get("stages"), list):
        raise ValueError(f"{path} is not the stage list `fxhls build` writes for {top!r}; build again or delete it")
    return saved["stages"]


def rtl_summary(rows: list[dict], clock_mhz: float) -> str:
    """One line on the RTL from its stage rows: the slowest stage's clocks per sample (the
    interval the co-simulation measures), and its compute layers' estimated LUTs and DSP
    slices (the figures its fold keeps within the board's budget, `fxhls.rtl.budget`)."""
    clocks = max(row["clocks"] for row in rows)
    lut = sum(row.get("lut_estimate") or 0 for row in rows)
    dsp = sum(row.get("dsp_estimate") or 0 for row in rows)
    return (f"RTL: {clocks} clocks per sample ({clock_mhz * 1e6 / clocks:,.0f} samples/s at {clock_mhz:g} MHz), "
            f"compute layers an estimated {lut:,} LUT and {dsp} DSP slices")
