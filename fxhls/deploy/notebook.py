"""The demo notebook, written from a script in "percent" form (`# %%` starts a code cell,
`# %% [markdown]` a markdown cell whose lines are comments), so the template reads as Python."""

from __future__ import annotations

import nbformat

_CODE_MARK = "# %%"
_MARKDOWN_MARK = "# %% [markdown]"


def notebook_from_percent_script(script: str) -> nbformat.NotebookNode:
    """A Jupyter notebook (nbformat 4) with the cells of `script`, unexecuted."""
    cells = []
    kind, lines = None, []
    for line in script.splitlines() + [_CODE_MARK]:
        if line.strip() in (_CODE_MARK, _MARKDOWN_MARK):
            if kind is not None:
                cells.append(_cell(kind, lines))
            kind, lines = ("markdown" if line.strip() == _MARKDOWN_MARK else "code"), []
        elif kind is None:
            if line.strip():
                raise ValueError(f"a percent script starts with '{_CODE_MARK}', got {line!r}")
        else:
            lines.append(line)
    for number, cell in enumerate(cells, start=1):
        cell.id = f"cell-{number}"  # nbformat draws random ids: fixed ones keep builds byte-identical
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.validate(notebook)
    return notebook


def _cell(kind: str, lines: list[str]) -> nbformat.NotebookNode:
    while lines and not lines[-1].strip():
        lines.pop()
    if kind == "code":
        return nbformat.v4.new_code_cell("\n".join(lines))
    text = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines]
    return nbformat.v4.new_markdown_cell("\n".join(text))
