"""design.json's stream interface, read from hand-built hardware graphs."""

from __future__ import annotations

import json

import pytest

from fxhls.deploy import stream_interface
from fxhls.deploy.interface import read_design, sealed, top_function_name
from fxhls.fixed import FixedType
from fxhls.ir import Graph, Node, Tensor


def graph(input_shape, cast_type, output_shape, output_type, first_op="Quantize") -> Graph:
    """x (float) -> first_op -> q -> Relu -> y, with the types and shapes given."""
    tensors = {
        "x": Tensor("x", input_shape),
        "q": Tensor("q", input_shape, cast_type),
        "y": Tensor("y", output_shape, output_type),
    }
    nodes = [Node(first_op, "cast", ["x"], ["q"]), Node("Relu", "relu", ["q"], ["y"])]
    return Graph(nodes, tensors, ["x"], ["y"])


def test_vector_in_vector_out():
    g = graph((10,), FixedType(8, 1, False), (3,), FixedType(18, 9))
    design = stream_interface(g, "mnist-mlp", "ultra96v2", 250)
    assert design == sealed({
        "name": "mnist-mlp",
        "top": "mnist_mlp",
        "board": "ultra96v2",
        "clock_mhz": 250,
        "word_bits": 64,
        "input": {"shape": [10], "type": "ap_ufixed<8,1>", "width": 8, "frac_bits": 7, "signed": False,
                  "lane": 8, "values": 10, "words": 2, "cast": design["input"]["cast"]},  # the host cast: its own test
        "output": {"shape": [3], "type": "ap_fixed<18,9>", "width": 18, "frac_bits": 9, "signed": True,
                   "lane": 32, "values": 3, "words": 2},
    })


def test_image_in_with_modes_in_the_type_spelling():
    g = graph((3, 5, 5), FixedType(16, 4, True, "AP_RND", "AP_SAT"), (10,), FixedType(32, 40))
    design = stream_interface(g, "cnn", "zcu104", 200.0)
    assert design["input"]["type"] == "ap_fixed<16,4,AP_RND,AP_SAT>"
    assert (design["input"]["lane"], design["input"]["values"], design["input"]["words"]) == (16, 75, 19)
    assert (design["output"]["frac_bits"], design["output"]["words"]) == (-8, 5)


@pytest.mark.parametrize("name, top", [("net", "net"), ("my net-1", "my_net_1"), ("3layers", "fx_3layers"),
                                       ("module", "fx_module"), ("input", "fx_input"), ("EOF", "fx_EOF"),
                                       ("m\"); x\n", "m_x"), ("a" * 300, "a" * 64)])
def test_top_function_name_is_a_c_identifier(name, top):
    assert top_function_name(name) == top


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: graph((4,), FixedType(8, 1), (2,), FixedType(33, 10)), "at most 32 bits wide"),
        (lambda: graph((4,), FixedType(40, 1), (2,), FixedType(8, 4)), "input stream tensor 'q'.*40 bits"),
        (lambda: graph((4,), FixedType(8, 1), (2,), None), "no fixed-point type"),
        (lambda: graph((0,), FixedType(8, 1), (2,), FixedType(8, 4)), "input stream tensor 'q' has shape \\(0,\\), with no values"),
        (lambda: graph((3, 0, 2), FixedType(8, 1), (2,), FixedType(8, 4)), "every dimension must be at least 1"),
        (lambda: graph((4,), FixedType(8, 1), (2, 2, 1, 1), FixedType(8, 4)),
         "vectors \\(n,\\), sequences \\(C, L\\) or images"),
        (lambda: graph((4,), FixedType(8, 1), (2,), FixedType(8, 4), first_op="Relu"),
         "must feed exactly one Quantize node"),
    ],
)
def test_refusals(make, message):
    with pytest.raises(ValueError, match=message):
        stream_interface(make(), "net", "ultra96v2", 250)


@pytest.mark.parametrize("clock", [0, -5, "250", None])
def test_refuses_a_bad_clock(clock):
    with pytest.raises(ValueError, match="positive number of MHz"):
        stream_interface(graph((4,), FixedType(8, 1), (2,), FixedType(8, 4)), "net", "ultra96v2", clock)


def test_refuses_a_name_without_letters():
    with pytest.raises(ValueError, match="needs an ASCII letter or digit"):
        top_function_name("--")


def _design() -> dict:
    return stream_interface(graph((10,), FixedType(8, 1, False), (3,), FixedType(18, 9)), "mlp", "ultra96v2", 250)


@pytest.mark.parametrize("content,problem", [
    ("{}", "'name' is missing"),
    ("[1, 2]", "not a JSON object"),
    ('{"name": ', "Expecting value"),
    (json.dumps({**_design(), "clock_mhz": float("inf")}), "clock_mhz inf is not a positive number"),
    (json.dumps({**_design(), "top": "a; rm -rf ~"}), "is not a C identifier"),
    (json.dumps({**_design(), "input": {**_design()["input"], "words": 1}}), "fields do not agree"),
    (json.dumps({**_design(), "input": {**_design()["input"], "type": "ap_ufixed<8,1,AP_RND,AP_SAT>"}}),
     "changed after the build"),
    (json.dumps({**_design(), "clock_mhz": 100}), "changed after the build"),
])
def test_read_design_refuses_a_design_json_not_as_written_in_one_line(tmp_path, content, problem):
    (tmp_path / "design.json").write_text(content)
    with pytest.raises(ValueError, match="not a design.json written by fxhls build") as info:
        read_design(tmp_path / "design.json")
    assert problem in str(info.value) and "\n" not in str(info.value)


def test_read_design_takes_what_the_build_wrote_with_keys_added_or_reordered(tmp_path):
    design = _design()
    (tmp_path / "design.json").write_text(json.dumps({"note": "by hand", **dict(reversed(design.items()))}))
    assert read_design(tmp_path / "design.json") == {"note": "by hand", **design}
