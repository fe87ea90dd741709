"""The demo notebook, written from a script in "percent" form (`# %%` starts a code cell,
`# %% [markdown]` a markdown cell whose lines are comments), so the template reads as Python.

The notebook is nbformat 4.5 JSON, written as nbformat writes it (sorted keys, indent 1,
sources as lists of lines) with the standard library: importing and validating with
nbformat took a fifth of `fxhls build`'s time. The tests validate it with nbformat.
"""

from __future__ import annotations

import json

_CODE_MARK = "# %%"
_MARKDOWN_MARK = "# %% [markdown]"
_KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def notebook_from_percent_script(script: str) -> dict:
    """A Jupyter notebook (nbformat 4.5, as a dict of JSON values) with the cells of
    `script`, unexecuted."""
    cells = []
    kind, lines = None, []
    for line in script.splitlines() + [_CODE_MARK]:
        if line.strip() in (_CODE_MARK, _MARKDOWN_MARK):
            if kind is not None:
                cells.append(_cell(kind, lines, len(cells) + 1))
            kind, lines = ("markdown" if line.strip() == _MARKDOWN_MARK else "code"), []
        elif kind is None:
            if line.strip():
                raise ValueError(f"a percent script starts with '{_CODE_MARK}', got {line!r}")
        else:
            lines.append(line)
    return {"cells": cells, "metadata": {"kernelspec": _KERNEL}, "nbformat": 4, "nbformat_minor": 5}


def notebook_json(notebook: dict) -> str:
    """The notebook's file content."""
    return json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _cell(kind: str, lines: list[str], number: int) -> dict:
    while lines and not lines[-1].strip():
        lines.pop()
    if kind == "markdown":
        lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines]
    source = "\n".join(lines).splitlines(keepends=True)
    cell = {"cell_type": kind, "id": f"cell-{number}", "metadata": {}, "source": source}  # fixed ids: identical builds
    if kind == "code":
        cell |= {"execution_count": None, "outputs": []}
    return cell
