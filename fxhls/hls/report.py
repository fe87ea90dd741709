"""report/: per-layer types, parallelism, estimated clocks and DSP slices, as a
markdown table, a CSV file and a plot (matplotlib, when installed)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fxhls.templating import render

from .naming import comment_text
from .parallelism import folding


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
            "cycles": cost.cycles,
            "multipliers": cost.multipliers,
            "dsp": cost.dsp,
        })
    return rows


def summary(plan, rows: list[dict], board, design: dict) -> dict:
    """The pipeline's interval (its slowest stage or converter), a latency bound (every
    stage in turn), samples per second at the clock, and the DSP total."""
    converters = max(plan.streams[plan.input].values, plan.streams[plan.output].values)
    interval = max([converters] + [row["cycles"] for row in rows])
    latency = plan.streams[plan.input].values + plan.streams[plan.output].values + sum(r["cycles"] for r in rows)
    return {"interval": interval, "latency_bound": latency,
            "samples_per_second": round(design["clock_mhz"] * 1e6 / interval),
            "dsp": sum(row["dsp"] for row in rows), "board_dsp": board.resources["dsp"]}


def write_report(folder: Path, plan, layers, originals, board, design) -> dict:
    """Write report/layers.md, report/layers.csv and report/layers.png (or a note
    saying why there is no plot); returns the `summary`."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = layer_rows(plan, layers, originals, board.dsp_primitive)
    totals = summary(plan, rows, board, design)
    markdown_rows = [dict(row, onnx_node=comment_text(row["onnx_node"])) for row in rows]
    (folder / "layers.md").write_text(render("hls/report.md.j2", rows=markdown_rows, totals=totals, board=board,
                                             design=design, model=comment_text(design["name"])))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else ["layer"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (folder / "layers.csv").write_text(text.getvalue())
    _plot(folder, rows)
    return totals


def summary_text(totals: dict, clock_mhz: float) -> str:
    """The summary in one line."""
    return (f"estimates: {totals['interval']} clocks per sample ({totals['samples_per_second']} samples/s at "
            f"{clock_mhz} MHz), latency at most {totals['latency_bound']} clocks, "
            f"{totals['dsp']} of {totals['board_dsp']} DSP slices")


def _plot(folder: Path, rows: list[dict]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        (folder / "layers_plot.txt").write_text("no plot: matplotlib is not installed (pip install matplotlib)\n")
        return
    names = [row["layer"] for row in rows]
    figure, (cycles, dsp) = pyplot.subplots(2, 1, figsize=(max(6.0, 0.5 * len(rows)), 6), sharex=True)
    cycles.bar(names, [row["cycles"] for row in rows], color="tab:blue")
    cycles.set_ylabel("clocks per sample")
    cycles.set_title("per-layer estimates")
    dsp.bar(names, [row["dsp"] for row in rows], color="tab:orange")
    dsp.set_ylabel("DSP slices")
    dsp.tick_params(axis="x", labelrotation=60)
    figure.tight_layout()
    figure.savefig(folder / "layers.png", dpi=80, metadata={"Software": None})
    pyplot.close(figure)
