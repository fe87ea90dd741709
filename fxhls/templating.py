"""Rendering the Jinja templates in `templates/` (shipped as the `fxhls.templates` package data)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import jinja2


@lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    root = resources.files("fxhls") / "templates"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(name: str, **context) -> str:
    """Render `templates/<name>` with `context`; a missing variable is an error."""
    return _environment().get_template(name).render(**context)
