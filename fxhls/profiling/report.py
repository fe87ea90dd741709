"""A profile as text: an aligned table for the terminal, and the files profile.md,
profile.csv and profile.svg (a plot in the manner of hls4ml's profiling: per cast, the
float |x| on a log2 axis as a box plot over the type's range, a shaded band from its lsb
to its largest value; from a template, as fxhls's other plots)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from fxhls.staging import write_file
from fxhls.templating import render

from .measure import Profile

# The columns of the table and the Markdown file: heading, and the row's cell as text.
_COLUMNS = (
    ("layer", lambda row: row["layer"]),
    ("kind", lambda row: row["kind"]),
    ("type", lambda row: row["type"]),
    ("float min", lambda row: _number(row["min"])),
    ("float max", lambda row: _number(row["max"])),
    ("pP abs", lambda row: _number(row["percentile_abs"])),
    ("type min", lambda row: _number(row["type_min"], 6)),
    ("type max", lambda row: _number(row["type_max"], 6)),
    ("lsb", lambda row: _number(row["lsb"])),
    ("saturated %", lambda row: _percent(row["saturated"])),
    ("underflow %", lambda row: _percent(row["underflow"])),
    ("max abs error", lambda row: _number(row["max_abs_error"])),
    ("mean abs error", lambda row: _number(row["mean_abs_error"])),
    ("int bits for pP", lambda row: "" if row["int_bits_needed"] is None else str(row["int_bits_needed"])),
)
_NAME_MAX = 40  # characters of a layer name the terminal table and the plot show


def headings(profile: Profile) -> list[str]:
    return [heading.replace("pP", f"p{profile.percentile:g}") for heading, _ in _COLUMNS]


def cells(row: dict) -> list[str]:
    """A row's cells as the table shows them (names as they are)."""
    return [cell(row) for _, cell in _COLUMNS]


def table(profile: Profile) -> str:
    """The profile as an aligned text table (names shortened, unprintable ones quoted), with
    the output's comparison with float under it."""
    lines = [headings(profile)] + [[_shown(text) if index < 2 else text for index, text in enumerate(cells(row))]
                                   for row in profile.rows]
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]
    text = ["  ".join(cell.ljust(width) if column < 3 else cell.rjust(width)
                      for column, (cell, width) in enumerate(zip(line, widths))).rstrip() for line in lines]
    return "\n".join(text + [summary(profile)])


def summary(profile: Profile) -> str:
    """One line: the output against float, or why there is no float to compare with."""
    if profile.output is None:
        return (f"{profile.samples} samples; the model is typed already, so the values each cast receives are the "
                f"emulator's and there is no float model to compare with")
    out = profile.output
    return (f"{out['samples']} samples; output {_shown(out['name'])}: top class equal to float on "
            f"{100 * out['top_class_agreement']:.1f}%, largest error {_number(out['max_abs_error'])}, "
            f"mean error {_number(out['mean_abs_error'])}")


def write_profile(folder: Path, profile: Profile) -> list[Path]:
    """Write profile.md, profile.csv and profile.svg into `folder`; returns their paths."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {folder}: a file, not a folder; give a folder to write the profile into")
    folder.mkdir(parents=True, exist_ok=True)
    texts = {"profile.md": _markdown(profile), "profile.csv": _csv(profile), "profile.svg": _plot(profile)}
    for name, text in texts.items():
        write_file(folder / name, lambda file, text=text: file.write(text.encode()))
    return [folder / name for name in texts]


def _markdown(profile: Profile) -> str:
    out = profile.output or {}
    return render("profile/profile.md.j2", profile=profile, rows=[cells(row) for row in profile.rows],
                  agreement=f"{100 * out.get('top_class_agreement', 0):.1f}", largest=_number(out.get("max_abs_error")),
                  mean=_number(out.get("mean_abs_error")))


def _csv(profile: Profile) -> str:
    text = io.StringIO()
    fields = [key for key in profile.rows[0] if key != "log2_quartiles"] if profile.rows else ["layer"]
    writer = csv.DictWriter(text, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: "" if value is None else value for key, value in row.items()} for row in profile.rows)
    return text.getvalue()


# The plot's geometry (pixels): label column, panel width, row height, top margin.
_LABELS, _PANEL, _ROW, _TOP = 270, 480, 20, 52


def _plot(profile: Profile) -> str:
    """profile.svg: per cast, log2 |x| (whiskers min..max of the nonzero values, box the
    quartiles, a line at the median) over the type's range (shaded, lsb..max)."""
    spans = [(math.log2(row["lsb"]), math.log2(max(row["type_max"], row["lsb"]))) for row in profile.rows]
    ends = [end for span in spans for end in span] + [q for row in profile.rows for q in row["log2_quartiles"] or []]
    low, high = math.floor(min(ends, default=-8)) - 1, math.ceil(max(ends, default=8)) + 1
    step = max(1, math.ceil((high - low) / 12))

    def x(power: float) -> float:
        return round(_LABELS + _PANEL * (power - low) / (high - low), 1)

    rows = []
    for index, (row, (lsb, largest)) in enumerate(zip(profile.rows, spans)):
        quartiles = [x(q) for q in row["log2_quartiles"]] if row["log2_quartiles"] else None
        rows.append({"label": _short(f"{row['layer']} ({row['kind']})"), "y": _TOP + index * _ROW,
                     "band": (x(lsb), round(x(largest) - x(lsb), 1)), "quartiles": quartiles,
                     "box_width": round(quartiles[3] - quartiles[1], 1) if quartiles else 0,
                     "fits": not row["saturated"]})
    ticks = [{"power": power, "x": x(power)} for power in range(low - low % step + step, high, step)]
    return render("profile/profile_plot.svg.j2", title=profile.model, rows=rows, ticks=ticks, left=_LABELS,
                  right=_LABELS + _PANEL, top=_TOP - 6, bottom=_TOP + len(rows) * _ROW,
                  width=_LABELS + _PANEL + 20, height=_TOP + len(rows) * _ROW + 44)


def _number(value, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}g}"


def _percent(value) -> str:
    return "" if value is None else f"{100 * value:.2f}"


def _short(name: str) -> str:
    return name if len(name) <= _NAME_MAX else name[:_NAME_MAX - 3] + "..."


def _shown(name: str) -> str:
    """A name for the terminal: shortened, and quoted with escapes if it holds characters
    that are not printable (control sequences)."""
    return _short(name if name.isprintable() else ascii(name))
