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

from fxhls.identifiers import MAX_LENGTH, TOP_MAX_LENGTH, identifier, is_identifier
from fxhls.ir.graph import Graph, Node, Tensor

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
    """`top` (the design's top function) if it is an identifier free in every generated
    language (`fxhls.identifiers`), else a ValueError."""
    if not isinstance(top, str) or not is_identifier(top, TOP_MAX_LENGTH):
        raise ValueError(f"the top function name {top!r} is not an identifier free for the generated code "
                         f"(letters, digits and single underscores, at most {TOP_MAX_LENGTH} characters, no "
                         f"keyword or reserved name such as main, int, module, assert); give the design another name")
    return top
