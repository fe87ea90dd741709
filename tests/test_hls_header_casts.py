"""Casts the ap_fixed headers cannot compute (a value wholly below the target's lsb):
an exact accumulator gets the integer bits they need and C simulation equals the IR; any
other such cast is refused in one line; the predicate agrees with the headers compiled by g++."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from fxhls.deploy import stream_interface
from fxhls.fixed import FixedType
from fxhls.fixed.headers import headers_can_convert, sign_extended_for
from fxhls.hls.writer import write_hls_project
from fxhls.sim.toolchain import ap_types_include_dir, cxx_compiler
from hls_build_helpers import GraphBuilder, csim_against_ir, sample_inputs

# (source, target): the headers abort on a rounding cast from 14 bits to 15 or more places up.
CASES = [("ap_fixed<14,-5>", "ap_fixed<8,4,AP_RND_CONV,AP_SAT>"), ("ap_fixed<14,-5>", "ap_fixed<8,3,AP_RND,AP_SAT>"),
         ("ap_fixed<14,-5>", "ap_fixed<8,4,AP_TRN,AP_SAT>"), ("ap_fixed<14,-5>", "ap_fixed<8,4,AP_TRN_ZERO,AP_WRAP>"),
         ("ap_fixed<14,3>", "ap_fixed<8,18,AP_RND,AP_SAT>"), ("ap_fixed<14,3>", "ap_fixed<8,17,AP_RND_INF,AP_SAT>"),
         ("ap_ufixed<6,-2>", "ap_ufixed<4,5,AP_RND_ZERO,AP_SAT>"), ("ap_ufixed<6,-2>", "ap_ufixed<4,4,AP_RND,AP_SAT>")]


def test_the_predicate_is_what_the_headers_do(tmp_path):
    cases = "\n".join(
        f"  if (which == {i}) {{ {source} a; for (int k = 0; k < 4096; k++) {{ a.range() = k; {target} b = a; "
        f"sink += b.to_double(); }} }}" for i, (source, target) in enumerate(CASES))
    (tmp_path / "casts.cpp").write_text(
        "#include <ap_fixed.h>\n#include <cstdlib>\n#include <cstdio>\nint main(int argc, char** argv) {\n"
        f"  const int which = std::atoi(argv[1]);\n  volatile double sink = 0;\n{cases}\n"
        "  std::printf(\"%g\\n\", (double)sink);\n  return 0;\n}\n")
    subprocess.run([cxx_compiler(), "-std=c++14", "-O0", "-isystem", str(ap_types_include_dir()), "casts.cpp", "-o",
                    "casts"], cwd=tmp_path, check=True)
    for i, (source, target) in enumerate(CASES):
        ran = subprocess.run([str(tmp_path / "casts"), str(i)], capture_output=True).returncode == 0
        assert ran == headers_can_convert(FixedType.parse(source), FixedType.parse(target)), (source, target)
        widened = sign_extended_for(FixedType.parse(source), FixedType.parse(target))
        assert headers_can_convert(widened, FixedType.parse(target)) and widened.frac_bits == FixedType.parse(source).frac_bits


@pytest.mark.parametrize("out_type", ["ap_fixed<8,4,AP_RND_CONV,AP_SAT>", "ap_fixed<8,6,AP_RND_INF,AP_WRAP>",
                                      "ap_fixed<10,1,AP_RND,AP_SAT>"])
def test_an_exact_accumulator_far_below_the_output_compiles_and_equals_the_ir(tmp_path, out_type):
    b = GraphBuilder((6,), "ap_fixed<8,-9,AP_RND_CONV,AP_SAT>")
    weights = b.constant("ap_fixed<4,2>", (3, 6))
    b.add("Gemm", [b.last, weights], {"out_type": out_type})
    x = sample_inputs((6,), 64, seed=3) * 2.0**-12
    got, expected = csim_against_ir(b.graph(), tmp_path, x)
    assert int((got != expected).sum()) == 0


def test_any_other_cast_the_headers_cannot_do_is_refused(tmp_path):
    b = GraphBuilder((6,), "ap_fixed<8,-9,AP_RND_CONV,AP_SAT>")
    b.add("Relu", [b.last], {"out_type": "ap_fixed<8,4,AP_RND,AP_SAT>"}, name="relu_far")
    graph = b.graph()
    with pytest.raises(ValueError, match=r"^node 'relu_far': its cast of ap_fixed<8,-9.* cannot compute") as err:
        write_hls_project(graph, stream_interface(graph, "m", "ultra96v2", 250), tmp_path / "p")
    assert "\n" not in str(err.value) and not (tmp_path / "p").exists()
