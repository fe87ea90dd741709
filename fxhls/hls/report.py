"""report/: per-layer types, parallelism, estimated clocks and DSP slices, as a
markdown table, a CSV file and a plot (an SVG file from a template: no plotting
library to import, and the same bytes for the same model)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fxhls.ir.requantize_choice import described
from fxhls.templating import render

from fxhls.ir.ops.softmax import exp_entries, softmax_types, sum_range
from fxhls.ir.ops.table import table_entries

from .layers.conv import LANE_KERNELS, kernel_kind, lane_fold
from .parallelism import FOLDING_OPS, folding


def layer_rows(plan, layers, originals: dict[str, str], primitive: str) -> list[dict]:
    """One row per stage: names, op, types, reuse and the cost estimates at that reuse."""
    rows = []
    for layer in layers:
        stage, node = layer.stage, layer.stage.node
        cost = folding(plan, stage, primitive).cost(layer.reuse)
        constant = node is not None and len(node.inputs) > 1 and plan.graph.is_constant(node.inputs[1])
        weights = plan.graph.tensor(node.inputs[1]).type if constant else None
        rows.append({
            "layer": stage.name,
            "op": node.op if node is not None else "fork",
            "onnx_node": originals[node.name] if node is not None else "",
            "input_type": str(plan.streams[stage.in_tensors[0]].type),
            "output_type": str(plan.streams[stage.tensor].type),
            "weight_type": str(weights) if weights is not None else "",
            "accumulator": node.attrs.get("acc_type", "") if node is not None else "",
            "reuse": layer.reuse,
            "simd_pe": _simd_pe(plan.graph, node, layer.reuse, layer.fold),
            "set_by": layer.set_by,
            "cycles": cost.cycles,
            "multipliers": cost.multipliers,
            "dsp": cost.dsp,
        })
    return rows


def _simd_pe(graph, node, reuse: int, fold: tuple[int, int] | None) -> str:
    """"SIMD x PE" of a layer folded as an MVU (K-hot and binary), else empty."""
    if node is None or node.op not in FOLDING_OPS or kernel_kind(graph, node) not in LANE_KERNELS:
        return ""
    return "{} x {}".format(*(fold or lane_fold(graph, node, reuse)))


def lookup_tables(plan, originals: dict[str, str]) -> list[dict]:
    """One row per lookup table of the design (a Table's; a Softmax's exp and reciprocal
    tables): its stage, what indexes it, its entries and their type."""
    rows = []
    for stage in plan.stages:
        node = stage.node
        if node is None or node.op not in ("Table", "Softmax"):
            continue
        x = plan.graph.tensor(node.inputs[0])
        row = {"layer": stage.name, "onnx_node": originals[node.name]}
        if node.op == "Table":
            out_type = plan.graph.tensor(node.outputs[0]).type
            rows.append(row | {"table": node.attrs["function"], "index": f"x in {x.type}", "read_by": "each value",
                               "entries": len(table_entries(node, x.type)), "entry_type": str(out_type)})
            continue
        types = softmax_types(node, x.type, x.shape[0])
        lo, hi = sum_range(types)
        rows.append(row | {"table": "Softmax exp", "index": f"max - x in {x.type}", "read_by": "each channel",
                           "entries": len(exp_entries(x.type, types.exp)), "entry_type": str(types.exp)})
        rows.append(row | {"table": "Softmax reciprocal", "index": f"sum in {types.sum}, codes {lo} to {hi}",
                           "read_by": "each pixel", "entries": hi - lo + 1, "entry_type": str(types.reciprocal)})
    return rows


def summary(plan, rows: list[dict], board, design: dict) -> dict:
    """The pipeline's interval (its slowest stage or converter), a latency bound (every
    stage in turn), samples per second at the clock, the DSP total, and "folds": each Conv
    and Gemm's ONNX node, reuse, SIMD x PE, clocks per sample and what set its fold."""
    converters = max(plan.streams[plan.input].values, plan.streams[plan.output].values)
    interval = max([converters] + [row["cycles"] for row in rows])
    latency = plan.streams[plan.input].values + plan.streams[plan.output].values + sum(r["cycles"] for r in rows)
    return {"interval": interval, "latency_bound": latency,
            "samples_per_second": round(design["clock_mhz"] * 1e6 / interval),
            "dsp": sum(row["dsp"] for row in rows), "board_dsp": board.resources["dsp"],
            "folds": [{key: row[key] for key in ("onnx_node", "reuse", "simd_pe", "cycles", "set_by")}
                      for row in rows if row["set_by"]]}


def write_report(folder: Path, plan, layers, originals, board, design) -> dict:
    """Write report/layers.md, report/layers.csv and the plot report/layers.svg;
    returns the `summary`."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = layer_rows(plan, layers, originals, board.dsp_primitive)
    totals = summary(plan, rows, board, design)
    requantizations = [{"layer": layer.stage.name, "what": described(plan.graph, layer.stage.node)}
                       for layer in layers if layer.stage.node is not None and described(plan.graph, layer.stage.node)]
    (folder / "layers.md").write_text(render("hls/report.md.j2", rows=rows, totals=totals, board=board,
                                             design=design, model=design["name"],
                                             tables=lookup_tables(plan, originals), requantizations=requantizations))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else ["layer"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (folder / "layers.csv").write_text(text.getvalue())
    _plot(folder, rows, design["name"])
    if "host" in design:
        _host_report(folder, design)
    return totals


def summary_text(totals: dict, clock_mhz: float) -> str:
    """The summary in one line."""
    return (f"estimates: {totals['interval']} clocks per sample ({totals['samples_per_second']} samples/s at "
            f"{clock_mhz} MHz), latency at most {totals['latency_bound']} clocks, "
            f"{totals['dsp']} of {totals['board_dsp']} DSP slices")


# The plot's geometry (pixels): label column, bar panels, rows.
_LABELS, _PANEL, _ROW, _TOP = 230, 260, 18, 48


def _plot(folder: Path, rows: list[dict], title: str) -> None:
    """report/layers.svg: each layer's clocks per sample and DSP slices as bars."""
    most_cycles = max([row["cycles"] for row in rows] + [1])
    most_dsp = max([row["dsp"] for row in rows] + [1])
    bars = [dict(row, y=_TOP + i * _ROW, clocks_width=round(_PANEL * row["cycles"] / most_cycles, 1),
                 dsp_width=round(_PANEL * row["dsp"] / most_dsp, 1)) for i, row in enumerate(rows)]
    (folder / "layers.svg").write_text(render(
        "hls/report_plot.svg.j2", title=title, bars=bars, clocks_x=_LABELS, dsp_x=_LABELS + _PANEL + 60,
        width=_LABELS + 2 * _PANEL + 120, height=_TOP + len(rows) * _ROW + 8))


def _host_report(folder: Path, design: dict) -> None:
    """report/host.md: the ONNX nodes whose float work runs on the host, before and after the hardware."""
    head, tail = design["host"]["head"], design["host"]["tail"]
    layer = (head["chain"].get("dense") or head["chain"].get("conv")) if head else None
    before = [*(step["node"] for step in head["chain"].get("input_steps", [])), *([layer["node"]] if layer else []),
              *(step["node"] for step in head["chain"]["steps"]), head["quant"]["node"]] if head else []
    after = [tail["chain"]["rescale"]["node"], *(step["node"] for step in tail["chain"]["steps"])] if tail else []
    dense = tail["chain"].get("dense") if tail else None
    (folder / "host.md").write_text(render(
        "hls/host_report.md.j2", top=design["top"], input_type=design["input"]["type"],
        output_type=design["output"]["type"], head=list(dict.fromkeys(before)), tail=list(dict.fromkeys(after)),
        dense=dense["node"] if dense else None, first_layer=layer["node"] if layer else None,
        first_layer_kernel="onnxruntime_conv" if head and "conv" in head["chain"] else "onnxruntime_matmul",
        input_transpose=design["host"].get("input_transpose"), output_transpose=design["host"].get("output_transpose")))
