"""The resource report's plot: utilisation of each resource as a share of the board's."""

from __future__ import annotations

from pathlib import Path


def plot_resources(rows: list[dict], title: str, path: Path) -> Path | None:
    """A bar chart of the rows' utilisation (percent of the board) saved to `path`;
    None, with nothing written, when matplotlib is not installed (the `sim` extra has it)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return None
    figure, axes = pyplot.subplots(figsize=(6, 3.5))
    names = [row["resource"] for row in rows]
    percents = [row["percent"] for row in rows]
    bars = axes.bar(names, percents, color=["#c0392b" if p > 100 else "#2e86c1" for p in percents])
    for bar, row in zip(bars, rows):
        axes.annotate(f"{row['used']:g} / {row['available']:g}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                      ha="center", va="bottom", fontsize=8)
    axes.axhline(100, color="black", linewidth=0.8, linestyle="--")
    axes.set_ylabel("% of the board")
    axes.set_ylim(0, max(110, max(percents) * 1.15))
    axes.set_title(title, fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
    return path
