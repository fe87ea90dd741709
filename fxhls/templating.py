"""Rendering the Jinja templates in `templates/` (shipped as the `fxhls.templates` package data).

Compiled templates are kept in the fxhls cache folder (Jinja's bytecode cache, which
recompiles a template whose source changed): compiling them took about a fifth of
`fxhls build`'s time.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import jinja2

from fxhls.cache import default_cache_dir


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
        bytecode_cache=_bytecode_cache(),
    )


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """The cache of compiled templates, or None where the cache folder cannot be made."""
    folder = default_cache_dir() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


def render(name: str, **context) -> str:
    """Render `templates/<name>` with `context`; a missing variable is an error."""
    return _environment().get_template(name).render(**context)
