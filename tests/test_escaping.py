"""The escaping functions against the languages' own readers: hypothesis draws hostile text
(any unicode, NUL, line breaks, quotes, `$`, brackets, backslashes, comment closers) and the
real Python, tclsh, sh and g++ read each literal back as exactly that text; comments stay
one inert line; the template gate refuses raw hostile text in every language."""

from __future__ import annotations

import ast
import json
import re
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhls import escaping
from fxhls.sim.toolchain import cxx_compiler
from fxhls.templating import INERT, FILTERS

HOSTILE = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40) | st.sampled_from([
    '"); system("x"); ("', "[exec touch x]", "$(touch x)", "`touch x`", "*/ x /*", "a\\", "a\\\nb", "\x00", "??/",
    "}\nputs hi\n{", "\u2028\u0085\r", "'''\"\"\"", "#", "%%", "<script>",
])
TEXTS = st.lists(HOSTILE, min_size=1, max_size=25)


@settings(max_examples=15, deadline=None)
@given(TEXTS)
def test_python_and_json_literals_read_back(texts):
    for text in texts:
        literal = escaping.python_string(text)
        assert "\n" not in literal and literal.isascii() and ast.literal_eval(literal) == text


@settings(max_examples=15, deadline=None)
@given(TEXTS)
def test_tcl_strings_read_back_under_tclsh(texts):
    nul_free = [t for t in texts if "\x00" not in t]  # a Tcl script is text: it cannot hold NUL
    script = "".join(f"puts [binary encode hex [encoding convertto utf-8 {escaping.tcl_string(t)}]]\n" for t in nul_free)
    run = subprocess.run(["tclsh"], input=script, capture_output=True, text=True, check=True)
    expected = [t.encode("utf-8").hex() if max(map(ord, t), default=0) <= 0xFFFF else None for t in nul_free]
    got_lines = run.stdout.split("\n")[:len(expected)]
    assert len(got_lines) == len(expected)
    for got, want in zip(got_lines, expected):
        if want is not None:  # beyond the BMP the text reads as U+FFFD (documented)
            assert got == want


@settings(max_examples=10, deadline=None)
@given(TEXTS)
def test_shell_words_read_back_under_sh(texts):
    nul_free = [t for t in texts if "\x00" not in t]  # an argument cannot hold NUL
    script = "".join(f"printf '%s' {escaping.shell_word(t)} | od -An -tx1 | tr -d ' \\n'; echo\n" for t in nul_free)
    run = subprocess.run(["sh"], input=script.encode(), capture_output=True, check=True)
    assert run.stdout.decode().split("\n")[:len(nul_free)] == [t.encode("utf-8").hex() for t in nul_free]


def test_cpp_strings_read_back_under_gxx(tmp_path):
    texts = ['"); system("x"); ("', "a\\", "??/ ??=", "\x00nul", "\n\r\t", "\u540d\u524d", "\U0001f600", "*/ //"]
    lines = "".join(f"  show({escaping.cpp_string(t)}, sizeof({escaping.cpp_string(t)}) - 1);\n" for t in texts)
    (tmp_path / "s.cpp").write_text(
        "#include <cstdio>\nstatic void show(const char* s, unsigned long n) {\n"
        "  for (unsigned long i = 0; i < n; i++) std::printf(\"%02x\", (unsigned char)s[i]);\n  std::printf(\"\\n\");\n}\n"
        f"int main() {{\n{lines}  return 0;\n}}\n")
    subprocess.run([cxx_compiler(), "-std=c++14", "-Wall", "-Werror", "-Wtrigraphs", "s.cpp", "-o", "s"],
                   cwd=tmp_path, check=True)
    run = subprocess.run([str(tmp_path / "s")], capture_output=True, text=True, check=True)
    assert run.stdout.split("\n")[:len(texts)] == [t.encode("utf-8").hex() for t in texts]


@settings(max_examples=50, deadline=None)
@given(HOSTILE)
def test_comments_and_markdown_are_one_inert_line(text):
    comment = escaping.comment(text)
    assert re.fullmatch(r"[A-Za-z0-9_ .,:;()=+<>@-]*(\.\.\.)?", comment) and len(comment) <= escaping.COMMENT_MAX
    assert not re.search(r"[\n\r<>\x85\u2028\u2029]", escaping.markdown_text(text))
    code = escaping.markdown_code(text)  # a code span shows < and > literally
    fence = re.match(r"`+", code).group()
    assert not re.search(r"[\n\r\x85\u2028\u2029]", code) and code.endswith(fence) and fence not in code[len(fence):-len(fence)]
    xml = escaping.xml_text(text)
    assert not re.search(r"[<>]", xml) and json.dumps(xml)


@pytest.mark.parametrize("language", sorted(INERT))
@pytest.mark.parametrize("text", ['a"b', "a\nb", "a\\b", "$(x)", "[exec x]", "`x`", "a#b", "a;b", "a{b}", "\x00", "\u00e9"])
def test_the_gate_refuses_raw_hostile_text(language, text):
    assert not INERT[language].fullmatch(text)


def test_every_filter_is_a_function_of_the_escaping_module():
    assert all(getattr(escaping, f.__name__) is f for f in FILTERS.values())
