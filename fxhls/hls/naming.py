"""C++ identifiers for the names of a model: nothing from the model file reaches the
generated C++ unchecked.

The HLS backend works on a copy of the graph whose node and tensor names are all
distinct identifiers made of letters, digits and single underscores between them
(never two in a row, none at either end, never a leading digit), at most
`MAX_LENGTH` characters. Generated symbols are such a name, an underscore and a word
of letters (`conv3_config`, `x_stream`): two different names never give the same
symbol, and none is a C++ keyword or a reserved identifier.
"""

from __future__ import annotations

import re

from fxhls.ir.graph import Graph, Node, Tensor

MAX_LENGTH = 40
# Global names of the generated project that a design's top function must not take.
RESERVED_TOPS = frozenset({"main", "fxhls", "fxhls_model", "hls", "std", "tb"})
CPP_KEYWORDS = frozenset("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char16_t char32_t class compl
const constexpr const_cast continue decltype default delete do double dynamic_cast else enum explicit export
extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq nullptr
operator or or_eq private protected public register reinterpret_cast return short signed sizeof static
static_assert static_cast struct switch template this thread_local throw true try typedef typeid typename
union unsigned using virtual void volatile wchar_t while xor xor_eq
""".split())


def identifier(name: str) -> str:
    """`name` as a C++ identifier: every run of other characters becomes one underscore,
    underscores at the ends go, a leading digit gets an "n" before it; at most
    MAX_LENGTH characters; "n" for a name with no letter or digit."""
    text = re.sub(r"[^A-Za-z0-9]+", "_", str(name), flags=re.ASCII).strip("_")[:MAX_LENGTH].rstrip("_")
    if not text:
        return "n"
    return f"n{text}"[:MAX_LENGTH].rstrip("_") if text[0].isdigit() else text


def comment_text(text: str) -> str:
    """`text` safe inside a C++ `//` comment: no line breaks, backslashes or trigraphs."""
    return re.sub(r"[^A-Za-z0-9_ .,:;()=+<>-]", "_", str(text), flags=re.ASCII)


class Namer:
    """Hands out distinct identifiers: the second "a" becomes "a_2", and so on."""

    def __init__(self):
        self._taken: set[str] = set()

    def __call__(self, name: str) -> str:
        base = identifier(name)
        candidate, count = base, 1
        while candidate in self._taken:
            count += 1
            suffix = f"_{count}"
            candidate = base[:MAX_LENGTH - len(suffix)].rstrip("_") + suffix
        self._taken.add(candidate)
        return candidate


def safe_graph(graph: Graph) -> tuple[Graph, dict[str, str]]:
    """A copy of `graph` whose node and tensor names are distinct identifiers, sharing
    its constants; and the map from each new node name to the original one."""
    namer = Namer()
    tensor_names = {name: namer(name) for name in graph.tensors}
    node_names = {node.name: namer(node.name) for node in graph.nodes}
    tensors = {tensor_names[name]: Tensor(tensor_names[name], t.shape, t.type, t.data, t.facts)
               for name, t in graph.tensors.items()}
    nodes = [Node(node.op, node_names[node.name], [tensor_names[n] for n in node.inputs],
                  [tensor_names[n] for n in node.outputs], dict(node.attrs)) for node in graph.nodes]
    renamed = Graph(nodes, tensors, [tensor_names[n] for n in graph.inputs], [tensor_names[n] for n in graph.outputs])
    return renamed, {new: old for old, new in node_names.items()}


def check_top_name(top: str) -> str:
    """`top` (the design's top function) if it is a usable C++ global name, else a ValueError."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", top, flags=re.ASCII) or re.match(r"_[A-Z_]", top):
        raise ValueError(f"the top function name {top!r} is not a C++ identifier free for a program's use")
    if top in CPP_KEYWORDS or top in RESERVED_TOPS:
        raise ValueError(f"the top function name {top!r} is reserved (a C++ keyword or one of "
                         f"{', '.join(sorted(RESERVED_TOPS))}); give the design another name")
    return top
