"""Text from outside (model file, graph, node and tensor names, board fields, config values,
paths) made safe for each language fxhls generates: one function per language and
position (a string literal, a comment, a shell word), each returning `Code`.

`Code` marks text that fxhls wrote or escaped itself; the template layer
(`fxhls.templating`) lets a plain string into a generated file only when it holds no
character that could end a literal or a comment, or start code, in that file's language.
So a template that forgets to escape a hostile name fails the build instead of emitting
it. Escaping keeps the text readable where the language allows it and is lossless for
string literals; comments, which cannot hold every character, get a readable stand-in.
"""

from __future__ import annotations

import html
import re
import shlex

# Characters that pass into any comment unchanged; everything else becomes "_".
_COMMENT_SAFE = re.compile(r"[^A-Za-z0-9_ .,:;()=+<>@-]", flags=re.ASCII)
# A comment quotes at most this many characters of a name (node names can be 10,000 long).
COMMENT_MAX = 120


class Code(str):
    """Text that may go into a generated file as it is: written by fxhls, or escaped by a
    function of this module for the file's language."""

    __slots__ = ()


def comment(text) -> Code:
    """`text` as the inside of a one-line comment in any generated language (C++ `//`,
    Verilog `//`, Tcl and Python `#`, shell, Makefile): no line breaks, backslashes
    (line continuations), quotes, `$`, brackets, `*`/`/` (comment closers) or non-ASCII; other
    characters become "_", and text over COMMENT_MAX characters ends in "...".
    """
    text = str(text)
    short = text if len(text) <= COMMENT_MAX else text[:COMMENT_MAX - 3]
    return Code(_COMMENT_SAFE.sub("_", short) + ("..." if short is not text else ""))


def cpp_string(text) -> Code:
    """`text` as a C++ string literal (quotes included), every character kept: printable
    ASCII as is except `"`, `\\` and `?` (trigraphs), the rest as 3-digit octal escapes of its UTF-8."""
    out = []
    for byte in str(text).encode("utf-8", "surrogatepass"):
        char = chr(byte)
        if char in '"\\?':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return Code('"' + "".join(out) + '"')


def python_string(text) -> Code:
    """`text` as a Python string literal (quotes included): `ascii()`, so the literal is
    plain ASCII on one line whatever the text holds."""
    return Code(ascii(str(text)))


def tcl_string(text) -> Code:
    """`text` as one Tcl word in double quotes whose value is exactly `text`: letters,
    digits and `_ .,:/+=-@` as they are, every other character as a `\\uXXXX` escape (no
    substitution of `$`, `[...]` or backslashes can happen; characters beyond the BMP become U+FFFD)."""
    out = []
    for char in str(text):
        if re.fullmatch(r"[A-Za-z0-9_ .,:/+=@-]", char, flags=re.ASCII):
            out.append(char)
        else:
            out.append(f"\\u{min(ord(char), 0xFFFD) if ord(char) <= 0xFFFF else 0xFFFD:04x}")
    return Code('"' + "".join(out) + '"')


def shell_word(text) -> Code:
    """`text` as one POSIX shell word (single-quoted where needed)."""
    return Code(shlex.quote(str(text)))


def make_path(text) -> Code:
    """A path as a Makefile variable's value: refused unless it holds only characters that
    make and the shell take literally (letters, digits, `_ .,:/+=@-`)."""
    text = str(text)
    if not re.fullmatch(r"[A-Za-z0-9_.,:/+=@-]+", text, flags=re.ASCII):
        raise ValueError(f"the path {text!r} has characters a Makefile cannot hold literally "
                         f"(spaces, quotes, $, #, ...); move it to a path of letters, digits and _ . / -")
    return Code(text)


def markdown_text(text) -> Code:
    """`text` as inline Markdown that shows it literally: on one line, HTML escaped,
    Markdown's punctuation backslash-escaped (also inside a table cell: `|`)."""
    one_line = " ".join(str(text).split())
    escaped = html.escape(one_line, quote=True)
    return Code(re.sub(r"([\\`*_{}\[\]()#+!|~-])", r"\\\1", escaped))


def markdown_code(text) -> Code:
    """`text` as a Markdown code span (its backticks included) that shows it literally: on one
    line, fenced by more backticks than any run of backticks in it."""
    one_line = " ".join(str(text).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", one_line)), default=0) + 1)
    padding = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return Code(f"{fence}{padding}{one_line}{padding}{fence}")


def xml_text(text) -> Code:
    """`text` as XML character data or an attribute value (SVG): `& < > " '` escaped,
    control characters other than tab and line breaks dropped."""
    cleaned = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", str(text))
    return Code(html.escape(cleaned, quote=True))
