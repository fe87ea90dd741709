"""Rendering the Jinja templates in `templates/` (shipped as the `fxhls.templates` package data).

Every `{{ value }}` passes one gate, `_finalize`: numbers and `Code` (text fxhls wrote or
escaped, `fxhls.escaping`) go in as they are; any other text only when it holds no
character that could end a literal or a comment, or start code, in the template's
language (`INERT`, chosen by the template's file name). Text from outside reaches a
template through the filter of its language and position: `comment`, `cpp_string`,
`python_string`, `tcl_string`, `shell_word`, `make_path`, `markdown`, `markdown_code`, `xml`. A template
that forgets one fails the build on the first unusual name instead of emitting it.

Compiled templates are kept in the fxhls cache folder (Jinja's bytecode cache, which
recompiles a template whose source changed): compiling them took about a fifth of
`fxhls build`'s time.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from importlib import resources

import jinja2

from fxhls import escaping
from fxhls.cache import default_cache_dir
from fxhls.escaping import Code

# Per template language (by the template's name), the characters a value may hold to go in
# unescaped: none that quotes, comments, escapes, substitutes or breaks a line there.
_WORDS = r"A-Za-z0-9_ .,:=+\-"
INERT = {
    "cpp": re.compile(rf"[{_WORDS}<>()]*"),
    "verilog": re.compile(rf"[{_WORDS}<>()']*"),
    "tcl": re.compile(rf"[{_WORDS}<>()/]*"),
    "python": re.compile(rf"[{_WORDS}<>()]*"),
    "shell": re.compile(r"[A-Za-z0-9_.,:=+/-]*"),
    "make": re.compile(r"[A-Za-z0-9_.,:=+/-]*"),
    "markdown": re.compile(rf"[{_WORDS}]*"),
    "xml": re.compile(rf"[{_WORDS}()]*"),
}
_LANGUAGES = ((".h.j2", "cpp"), (".cpp.j2", "cpp"), (".v.j2", "verilog"), (".tcl.j2", "tcl"), (".py.j2", "python"),
              (".sh.j2", "shell"), ("Makefile.j2", "make"), (".md.j2", "markdown"), (".svg.j2", "xml"))
FILTERS = {
    "comment": escaping.comment, "cpp_string": escaping.cpp_string, "python_string": escaping.python_string,
    "tcl_string": escaping.tcl_string, "shell_word": escaping.shell_word, "make_path": escaping.make_path,
    "markdown": escaping.markdown_text, "markdown_code": escaping.markdown_code, "xml": escaping.xml_text,
}


class UnsafeTemplateValue(RuntimeError):
    """A template was given text that is unsafe in its language without an escaping filter:
    a defect of fxhls (never a refusal of the model), so it is no ValueError."""


def template_language(name: str) -> str:
    """The language of the file the template `name` renders."""
    for suffix, language in _LANGUAGES:
        if name.endswith(suffix):
            return language
    raise ValueError(f"template {name}: no language known for its file name")


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value):
    if isinstance(value, Code):
        return value
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsafeTemplateValue(f"template {context.name}: the number {value} is not finite")
        return repr(value)
    text = str(value)
    language = template_language(context.name)
    if not INERT[language].fullmatch(text):
        raise UnsafeTemplateValue(f"template {context.name}: {text[:80]!r} is not safe in {language} as it is; "
                                  f"it must pass an escaping filter ({', '.join(FILTERS)})")
    return text


@lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    root = resources.files("fxhls") / "templates"
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_bytecode_cache(),
        finalize=_finalize,
    )
    environment.filters.update(FILTERS)
    return environment


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """The cache of compiled templates, or None where the cache folder cannot be made."""
    folder = default_cache_dir() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


def render(name: str, **context) -> Code:
    """Render `templates/<name>` with `context`; a missing variable or a value unsafe in
    the template's language is an error. The result is `Code`: it may go into another template."""
    return Code(_environment().get_template(name).render(**context))
