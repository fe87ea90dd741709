"""Hypothesis strategies for the fuzz suite: mutations of an ONNX model, .npy input files,
`fxhls build` options and design.json contents. Each draws a `Case`: what to write, and
whether the change keeps the meaning (then the result must equal the unchanged one)."""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass

import numpy as np
import onnx
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from fuzz_models import FEATURES, copy


@dataclass
class Case:
    name: str
    data: bytes
    neutral: bool = False  # the meaning is unchanged: if valid, the result must be the original's


ODD_INTS = [-(2 ** 40), -1, 0, 1, 2, 3, 7, 16, 33, 64, 1025, 2 ** 40]
ODD_VALUES = [*ODD_INTS, float("inf"), float("nan"), 2.5, -0.0, "AP_TRN", "AP_WRAP", "bogus", "", [1, 2], [0, 0]]


def _neutral(model, draw) -> Case:
    kind = draw(st.sampled_from(["unused initializer", "doc strings", "initializers reversed", "unused node"]))
    if kind == "unused initializer":
        model.graph.initializer.append(numpy_helper.from_array(np.ones(3, np.float32), "unused"))
    elif kind == "doc strings":
        model.doc_string, model.graph.doc_string = "a model", "a graph"
        helper.set_model_props(model, {"author": "fuzz"})
    elif kind == "initializers reversed":
        inits = list(model.graph.initializer)[::-1]
        del model.graph.initializer[:]
        model.graph.initializer.extend(inits)
    else:
        model.graph.node.append(helper.make_node("Relu", ["x"], ["unused:0"], name="unused"))
    return Case(kind, model.SerializeToString(), neutral=True)


def _graph_change(model, draw) -> Case:
    graph, nodes = model.graph, model.graph.node
    index = draw(st.integers(0, len(nodes) - 1))
    node = nodes[index]
    kind = draw(st.sampled_from(["delete node", "swap nodes", "dangling input", "cycle", "second producer",
                                 "op type", "input is initializer", "no quantizer"]))
    if kind == "delete node":
        del nodes[index]
    elif kind == "swap nodes":
        other = draw(st.integers(0, len(nodes) - 1))
        first, second = copy_node(nodes[index]), copy_node(nodes[other])
        nodes[index].CopyFrom(second)
        nodes[other].CopyFrom(first)
    elif kind == "dangling input":
        node.input[0] = "nowhere"
    elif kind == "cycle":
        node.input[0] = graph.output[0].name
    elif kind == "second producer":
        node.output[0] = nodes[draw(st.integers(0, len(nodes) - 1))].output[0]
    elif kind == "op type":
        node.op_type = draw(st.sampled_from(["Softmax", "Identity", "Sigmoid", "Quantize", "NoSuchOp", ""]))
        node.domain = draw(st.sampled_from(["", "fxhls", "com.example"]))
    elif kind == "input is initializer":
        graph.initializer.append(numpy_helper.from_array(np.zeros((1, FEATURES), np.float32), graph.input[0].name))
    else:
        _remove_quantizers(graph)
    # Nodes swapped and still in topological order (onnx.checker decides) compute the same.
    return Case(kind, model.SerializeToString(), neutral=kind == "swap nodes")


def copy_node(node):
    result = onnx.NodeProto()
    result.CopyFrom(node)
    return result


def _remove_quantizers(graph) -> None:
    """Every Quantize node removed, its consumers reading its input: the float model."""
    sources = {}
    for node in [n for n in graph.node if n.op_type == "Quantize"]:
        sources[node.output[0]] = node.input[0]
        graph.node.remove(node)
    for node in graph.node:
        node.input[:] = [sources.get(name, name) for name in node.input]
    for value in graph.output:
        while value.name in sources:
            value.name = sources[value.name]


def _attribute(model, draw) -> Case:
    node = draw(st.sampled_from(list(model.graph.node)))
    names = [a.name for a in node.attribute] + ["strides", "alpha", "transA", "khot"]
    name = draw(st.sampled_from(names))
    kept = [a for a in node.attribute if a.name != name]
    del node.attribute[:]
    node.attribute.extend(kept)
    if draw(st.booleans()):
        return Case(f"{node.name}: {name} removed", model.SerializeToString())
    value = draw(st.sampled_from(ODD_VALUES))
    node.attribute.append(helper.make_attribute(name, value))
    return Case(f"{node.name}: {name}={value!r}", model.SerializeToString())


def _declared_input(model, draw) -> Case:
    value = model.graph.input[0].type.tensor_type
    kind = draw(st.sampled_from(["element type", "dimension", "ir version", "opset", "no output"]))
    if kind == "element type":
        value.elem_type = draw(st.sampled_from([TensorProto.COMPLEX64, TensorProto.STRING, TensorProto.INT8,
                                                TensorProto.DOUBLE, TensorProto.BOOL, 0]))
    elif kind == "dimension":
        dim = value.shape.dim[draw(st.integers(0, 1))]
        choice = draw(st.sampled_from([0, -1, 1, 7, "symbol"]))
        dim.Clear()
        if choice == "symbol":
            dim.dim_param = "d"
        else:
            dim.dim_value = choice
    elif kind == "ir version":
        model.ir_version = draw(st.sampled_from([0, 1, 3, 99]))
    elif kind == "opset":
        opset = model.opset_import[draw(st.integers(0, len(model.opset_import) - 1))]
        opset.version = draw(st.sampled_from([0, 1, 99]))
    else:
        del model.graph.output[:]
    return Case(f"declared {kind}", model.SerializeToString())


def _bytes(model, draw) -> Case:
    data = bytearray(model.SerializeToString())
    position = draw(st.integers(0, len(data) - 1))
    if draw(st.booleans()):
        return Case(f"cut at byte {position}", bytes(data[:position]))
    data[position] = draw(st.integers(0, 255))
    return Case(f"byte {position} changed", bytes(data))


@st.composite
def model_cases(draw, model: onnx.ModelProto) -> Case:
    """A mutation of `model`: neutral, of the graph, of an attribute, of the declared input, of its bytes."""
    mutate = draw(st.sampled_from([_neutral, _graph_change, _graph_change, _attribute, _attribute,
                                   _declared_input, _bytes]))
    return mutate(copy(model), draw)


def _npy(array, **save) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **save)
    return buffer.getvalue()


REAL_DTYPES = ["bool", "int8", "uint16", "int64", "float16", "float32", "float64", ">f8", "<i4"]


@st.composite
def input_cases(draw) -> tuple[Case, np.ndarray | None]:
    """An inputs file and, when it holds a valid batch, its values as float64."""
    kind = draw(st.sampled_from(["array", "array", "array", "raw"]))
    if kind == "raw":
        raw = draw(st.sampled_from(["empty", "junk", "zip junk", "cut", "huge header", "npz", "pickle", "object"]))
        good = _npy(np.zeros((2, FEATURES)))
        data = {"empty": b"", "junk": b"\x93NUMPY junk", "zip junk": b"PK\x03\x04 junk", "cut": good[:len(good) - 7],
                "huge header": _huge_header(), "npz": _npz(), "pickle": pickle.dumps([[0.0] * FEATURES]),
                "object": _npy(np.array([None] * FEATURES, dtype=object), allow_pickle=True)}[raw]
        return Case(raw, data), None
    dtype = draw(st.sampled_from([*REAL_DTYPES, "complex64", "complex128", "U3", "S2"]))
    shape = draw(st.sampled_from([(3, FEATURES), (1, FEATURES), (0, FEATURES), (3, FEATURES - 1), (FEATURES,),
                                  (2, FEATURES, 1), ()]))
    values = draw(st.lists(st.sampled_from([0.0, -0.0, 0.5, -3.25, 1e300, -1e300, float("inf"), float("nan"),
                                            0.0625, 7.999, -128.0, 3.0, 1 / 3]),
                           min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    with np.errstate(all="ignore"):
        array = np.array(values, dtype=np.float64).reshape(shape)
        if dtype not in ("U3", "S2") and np.dtype(dtype).kind in "biu":
            array = np.nan_to_num(array, posinf=100, neginf=-100).clip(-100, 100)
        typed = array.astype(dtype)
    if draw(st.booleans()) and typed.ndim == 2:
        typed = np.asfortranarray(typed)
    valid = typed.dtype.kind in "biuf" and typed.ndim == 2 and typed.shape[1] == FEATURES
    return Case(f"{typed.dtype} {typed.shape}", _npy(typed)), (typed.astype(np.float64) if valid else None)


def _huge_header() -> bytes:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (400000000000, 6), }"
    header = header.ljust(117) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(64)


def _npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, x=np.zeros((2, FEATURES)))
    return buffer.getvalue()


CLOCKS = ["250", "100.5", "1e-300", "1e308", "inf", "-inf", "nan", "0", "-5", "abc", ""]
REUSES = ["1", "2", "4", "0", "-3", "fc=2", "fc=0", "nolayer=2", "=", "fc=", "x", "2.5", "9999999999999999999999"]


@st.composite
def build_options(draw) -> list[str]:
    """Options of `fxhls build` (after MODEL): a board, maybe a clock, reuse factors and a DSP budget."""
    options = ["--board", draw(st.sampled_from(["ultra96v2", "zcu104", "pynq-z2", "nosuchboard", "../../etc/passwd",
                                                "board.yaml", ""]))]
    if draw(st.booleans()):
        options += ["--clock-mhz", draw(st.sampled_from(CLOCKS))]
    for reuse in draw(st.lists(st.sampled_from(REUSES), max_size=2)):
        options += ["--reuse", reuse]
    if draw(st.booleans()):
        options += ["--dsp-budget", draw(st.sampled_from(["0", "1", "5", "360", "-1", "1e3", "99999999999"]))]
    return options


DESIGN_VALUES = [None, 0, -1, 1, 2.5, 64, float("inf"), "", "x", "ap_fixed<8,3>", "ap_fixed<99,3>", [], [6], [0],
                 [3, 2, 1], [1, 2], {}, True]


def _near(value) -> list:
    """Values close to a design.json stream field's: the same type with other modes (its
    fields then still agree), a number off by one, a shape reversed, the host cast changed."""
    if isinstance(value, str):
        stem = value.split(",")[:2]
        return [",".join(stem) + ">", ",".join([*stem, "AP_TRN", "AP_WRAP"]) + ">",
                ",".join([*stem, "AP_RND", "AP_SAT_SYM"]) + ">"]
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value - 1, value + 1]
    if isinstance(value, dict):  # the host cast: its modes and constants
        return [{}, {**value, "rounding": "AP_RND_CONV"}, {**value, "constants": value.get("constants", [])[::-1]}]
    return [value[::-1], [*value, 1]]


@st.composite
def design_cases(draw, design: dict) -> tuple[str, dict, bool]:
    """design.json content changed: a key removed, a value replaced (at the top or in a
    stream), keys reordered or added (neutral)."""
    changed = {**design, "input": dict(design["input"]), "output": dict(design["output"])}
    kind = draw(st.sampled_from(["remove", "replace", "stream", "stream", "stream", "reorder", "extra key",
                                 "not an object"]))
    if kind == "not an object":
        return kind, draw(st.sampled_from([[], "design", 3, None])), False
    if kind == "reorder":
        return kind, dict(reversed(list(changed.items()))), True
    if kind == "extra key":
        changed["comment"] = "added by hand"
        return kind, changed, True
    if kind == "stream":
        stream = changed[draw(st.sampled_from(["input", "output"]))]
        key = draw(st.sampled_from([*sorted(stream), "type", "type", "type"]))  # the type: the subtle one
        value = draw(st.sampled_from(DESIGN_VALUES) | st.sampled_from(_near(stream[key])))
        stream[key] = value
        return f"stream {key}={value!r}", changed, False
    key = draw(st.sampled_from(sorted(changed)))
    if kind == "remove":
        del changed[key]
        return f"{key} removed", changed, False
    value = draw(st.sampled_from(DESIGN_VALUES))
    changed[key] = value
    return f"{key}={value!r}", changed, False


@st.composite
def qonnx_quant_arguments(draw) -> dict:
    """Arguments of `fuzz_models.qonnx_quant`: odd bit widths, scales, zero points and attributes."""
    arguments = {}
    if draw(st.booleans()):
        arguments["bits"] = draw(st.sampled_from([1.0, 2.0, 8.0, 16.0, 0.0, -3.0, 2.5, float("inf"), float("nan"),
                                                  1e30, [4.0, 4.0], [4.0, 5.0]]))
    if draw(st.booleans()):
        arguments["scale"] = draw(st.sampled_from([1.0, 0.5, 2.0 ** -10, 4.0, 0.0, -0.25, 0.3, float("inf"),
                                                   float("nan"), [0.5, 0.5, 0.5, 0.5]]))
    if draw(st.booleans()):
        arguments["zero"] = draw(st.sampled_from([0.0, -0.0, 1.0, 0.5, float("nan")]))
    for name, values in (("signed", [0, 1, 2, -1]), ("narrow", [0, 1, 5]),
                         ("rounding_mode", ["ROUND", "HALF_EVEN", "FLOOR", "CEIL", "DOWN", "UP", "HALF_DOWN",
                                            "round", "", "BOGUS"])):
        if draw(st.booleans()):
            arguments[name] = draw(st.sampled_from(values))
    return arguments
