"""Names from the model file never reach the generated C++ as they are: hostile node,
tensor and model names give a project that compiles with -Werror, computes what the IR
computes, and holds none of those names' characters outside the CSV report."""

from __future__ import annotations

import pytest

from fxhls.deploy import stream_interface
from fxhls.escaping import comment as comment_text
from fxhls.hls.naming import Namer, check_top_name, safe_graph
from fxhls.identifiers import identifier
from fxhls.hls.writer import write_hls_project
from hls_build_helpers import GraphBuilder, csim_against_ir, sample_inputs

HOSTILE = [
    'x"; system("rm -rf /"); //', "line\nbreak", "ends in a backslash\\", "trigraph??/", "*/ int evil; /*",
    "#include <evil.h>", "int", "class", "main", "fxhls_model", "size_t", "1st", "a-b", "a_b", "a.b",
    "__reserved", "_Upper", "\u00fcn\u00efc\u00f6d\u00e9\u540d", "long" * 60, "", "conv_config", "conv",
]


def hostile_graph():
    """input -> cast -> Affine -> Relu -> Add(r, r) (a fork) -> Flatten -> Gemm, every
    node, tensor and constant named from HOSTILE."""
    names = iter(HOSTILE * 3)
    b = GraphBuilder((2, 2, 3), "ap_fixed<8,3,AP_RND_CONV,AP_SAT>", input_name=next(names))
    b.nodes[0].name = next(names)
    scale = b.constant("ap_fixed<6,2>", (2, 1, 1), name=next(names))
    shift = b.constant("ap_fixed<8,3>", (2, 1, 1), name=next(names))
    x = b.add("Affine", [b.last, scale, shift], {"out_type": "ap_fixed<10,4,AP_RND,AP_SAT>"}, next(names), next(names))
    x = b.add("Relu", [x], {}, next(names), next(names))
    x = b.add("Add", [x, x], {}, next(names), next(names))
    x = b.add("Flatten", [x], {}, next(names), next(names))
    weights = b.constant("ap_fixed<6,1>", (3, 12), name=next(names))
    bias = b.constant("ap_fixed<8,2>", (3,), name=next(names))
    b.add("Gemm", [x, weights, bias], {"out_type": "ap_fixed<16,6,AP_RND,AP_SAT>"}, next(names), next(names))
    return b.graph()


def test_hostile_names_compile_and_compute_exactly(tmp_path):
    graph = hostile_graph()
    assert len({n.name for n in graph.nodes} | set(graph.tensors)) > 15
    x = sample_inputs((2, 2, 3), 16, seed=1)
    got, expected = csim_against_ir(graph, tmp_path, x, name='evil" model\n#define int')
    assert int((got != expected).sum()) == 0
    dangerous = [name for name in HOSTILE if comment_text(name) != name]
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".h", ".cpp", ".tcl", ".md", "") and path.name != "layers.csv":
            text = path.read_text()
            found = [name for name in dangerous if name in text]
            assert not found, f"{path.relative_to(tmp_path)} holds {found}"
            assert "\\\n" not in text and "??/" not in text


def test_safe_names_are_distinct_identifiers():
    graph, originals = safe_graph(hostile_graph())
    names = [node.name for node in graph.nodes] + list(graph.tensors)
    assert len(names) == len(set(names))
    for name in names:
        assert name == identifier(name) and name.isascii() and not name[0].isdigit() and "__" not in name
    assert sorted(originals.values()) == sorted(node.name for node in hostile_graph().nodes)


def test_identifier_rules():
    assert identifier("a-b") == identifier("a_b") == identifier("a.b") == "a_b"
    assert identifier("1st") == "n1st" and identifier("") == "n" and identifier("__x__") == "x"
    for word in ("module", "input", "wire", "reg", "begin", "logic", "ap_clk", "assert", "EOF", "errno", "int",
                 "Module", "lambda", "fxhls_fifo"):
        assert identifier(word) == f"n_{word}"
    assert len(identifier("long" * 60)) <= 40
    namer = Namer()
    assert [namer("a-b"), namer("a_b"), namer("a_b_2"), namer("a.b")] == ["a_b", "a_b_2", "a_b_2_2", "a_b_3"]
    assert comment_text("a\nb\\*/??/") == "a_b" + "_" * 6


@pytest.mark.parametrize("top", ["main", "fxhls", "int", "class", "tb", "__x", "_X", "a-b", "module", "wire",
                                 "assert", "EOF", "errno", "input", "ap_clk", "x" * 65])
def test_reserved_top_names_are_refused(top, tmp_path):
    with pytest.raises(ValueError, match="top function name"):
        check_top_name(top)
    graph = hostile_graph()
    design = dict(stream_interface(graph, "m", "ultra96v2", 250), top=top)
    with pytest.raises(ValueError, match="top function name"):
        write_hls_project(graph, design, tmp_path)
