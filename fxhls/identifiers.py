"""Identifiers for the generated code, made from names that come from outside (the model
file's name, node and tensor names): one function, `identifier`, whose result is a valid
and free name in every language fxhls writes (C++, Verilog/SystemVerilog, Tcl, Python)
and a valid file name.

An identifier is letters, digits and single underscores between them (never two in a row,
none at either end, never a leading digit), at most `MAX_LENGTH` characters, and never a
keyword of those languages nor a name the generated code itself uses globally (C macros
such as `assert` or `EOF`, the testbench's variables, the RTL top's ports): such a name
gets a prefix ("n" before a digit, else "n_"). Generated symbols add an underscore and a word of letters to an
identifier (`conv3_config`), so they never clash with one another either.
"""

from __future__ import annotations

import re

MAX_LENGTH = 40
# A design's top (HLS top function, IP name, RTL top module, file names) may be longer.
TOP_MAX_LENGTH = 64

CPP_KEYWORDS = frozenset("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t char32_t class
compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield decltype
default delete do double dynamic_cast else enum explicit export extern false float for friend goto if inline
int long mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public register
reinterpret_cast requires return short signed sizeof static static_assert static_cast struct switch template
this thread_local throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t
while xor xor_eq
""".split())

# Names of the C and C++ standard library that are macros or that the generated code uses
# unqualified, and the names the fxhls testbench and top declare.
C_RESERVED = frozenset("""
assert errno EOF NULL stdin stdout stderr main exit abort printf fprintf size_t offsetof setjmp longjmp
va_arg va_start va_end va_list FILE BUFSIZ CHAR_BIT INT_MAX INT_MIN RAND_MAX EXIT_SUCCESS EXIT_FAILURE
SEEK_SET SEEK_CUR SEEK_END TMP_MAX L_tmpnam NDEBUG std hls fxhls fxhls_model ap_int ap_uint ap_fixed ap_ufixed
input output input_words output_words tlast message fail tb
""".split())

VERILOG_KEYWORDS = frozenset("""
always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign default defparam
design disable edge else end endcase endconfig endfunction endgenerate endmodule endprimitive endspecify
endtable endtask event for force forever fork function generate genvar highz0 highz1 if ifnone incdir include
initial inout input instance integer join large liblist library localparam macromodule medium module nand
negedge nmos nor noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive pull0 pull1
pulldown pullup pulsestyle_ondetect pulsestyle_onevent rcmos real realtime reg release repeat rnmos rpmos
rtran rtranif0 rtranif1 scalared showcancelled signed small specify specparam strong0 strong1 supply0 supply1
table task time tran tranif0 tranif1 tri tri0 tri1 triand trior trireg unsigned use uwire vectored wait wand
weak0 weak1 while wire wor xnor xor
accept_on alias always_comb always_ff always_latch assert assume before bind bins binsof bit break byte chandle
checker class clocking const constraint context continue cover covergroup coverpoint cross dist do endchecker
endclass endclocking endgroup endinterface endpackage endprogram endproperty endsequence enum eventually expect
export extends extern final first_match foreach forkjoin global iff ignore_bins illegal_bins implements implies
import inside int interconnect interface intersect join_any join_none let local logic longint matches modport
nettype new nexttime null package packed priority program property protected pure rand randc randcase
randsequence ref reject_on restrict return s_always s_eventually s_nexttime s_until s_until_with sequence
shortint shortreal soft solve static string strong struct super sync_accept_on sync_reject_on tagged this
throughout timeprecision timeunit type typedef union unique unique0 until until_with untyped var virtual void
wait_order weak wildcard with within
""".split())

# The RTL top's ports and fixed instances (templates/rtl/top.v.j2).
VERILOG_RESERVED = frozenset("""
ap_clk ap_rst_n ap_start ap_done ap_idle ap_ready clk rst_n unpack pack sample_last
""".split())

PYTHON_KEYWORDS = frozenset("""
False None True and as assert async await break class continue def del elif else except finally for from
global if import in is lambda nonlocal not or pass raise return try while with yield match case type
""".split())

RESERVED = CPP_KEYWORDS | C_RESERVED | VERILOG_KEYWORDS | VERILOG_RESERVED | PYTHON_KEYWORDS
_RESERVED_FOLDED = frozenset(word.lower() for word in RESERVED)


def identifier(name, max_length: int = MAX_LENGTH, prefix: str | None = None) -> str:
    """`name` as an identifier of every generated language: each run of characters other
    than ASCII letters and digits becomes one underscore, underscores at the ends go, the
    text is cut to `max_length`; a name that starts with a digit, is a reserved word (in
    any letter case: file systems and some tools fold case) or starts like the fxhls
    library's modules (`fxhls_`) gets `prefix` (default: "n" before a digit, else "n_");
    "n" for a name with no letter or digit."""
    text = re.sub(r"[^A-Za-z0-9]+", "_", str(name), flags=re.ASCII).strip("_")[:max_length].rstrip("_")
    if not text:
        return "n"
    if text[0].isdigit():
        text = f"{'n' if prefix is None else prefix}{text}"[:max_length].rstrip("_")
    elif text.lower() in _RESERVED_FOLDED or text.lower().startswith("fxhls_"):
        text = f"{'n_' if prefix is None else prefix}{text}"[:max_length].rstrip("_")
    return text


def is_identifier(text: str, max_length: int = MAX_LENGTH) -> bool:
    """Whether `text` is already what `identifier` makes of it."""
    return identifier(text, max_length) == text
