"""The width converters between 64-bit stream words and value beats (fxhls_unpack,
fxhls_pack) against fxhls.deploy.packing (the stream format: fxhls/deploy/packing.py), with ==, under random
back-pressure: alone, and chained (words in, the same words and TLAST out)."""

from __future__ import annotations

import functools

import numpy as np

from fxhls.deploy import packing
from fxhls.fixed import FixedType
from fxhls.sim.cosim import simulate_streams
from hls_layer_graphs import random_values
from rtl_bank import Instance, beats, build_bank, codes

SAMPLES = 4
T = FixedType.parse
# name, values per sample, value type, values per beat
FORMATS = [
    ("a", 12, T("ap_fixed<5,2>"), 3),     # 8-bit lanes, a sample ends mid-word
    ("b", 10, T("ap_ufixed<12,4>"), 5),   # 16-bit lanes, unsigned
    ("c", 6, T("ap_fixed<20,10>"), 6),    # 32-bit lanes
    ("d", 16, T("ap_int<8>"), 16),        # values as wide as their lanes, beats wider than words
]
LAST_FLAGS = [0, 1, 0, 1]  # the TLAST each sample's input ended with, as fxhls_pack gets it


@functools.cache
def _cases():
    gen = np.random.default_rng(62)
    cases = []
    for name, values, t, per_beat in FORMATS:
        x = random_values(t, (SAMPLES, values), gen)
        lane = packing.lane_bits(t.width)
        sample_codes = np.array(codes(x, t), dtype=np.int64).reshape(SAMPLES, values)
        words = [int(w) for w in packing.pack(sample_codes, lane).flatten()]
        parameters = {"VALUES": values, "LANE": lane, "X_W": t.width, "B": per_beat}
        cases.append({"name": name, "x": x, "type": t, "per_beat": per_beat, "words": words, "parameters": parameters})
    return cases


def _instances(case) -> list[Instance]:
    name, parameters, t, per_beat = case["name"], case["parameters"], case["type"], case["per_beat"]
    beat_bits = per_beat * t.width
    return [
        Instance(f"unpack_{name}", "fxhls_unpack", parameters,
                 {"s_axis": 64, "m_axis": beat_bits, "last_axis": 1}, with_last=("s_axis",)),
        Instance(f"pack_{name}", "fxhls_pack", parameters | {"X_SIGNED": int(t.signed)},
                 {"s_axis": beat_bits, "last_axis": 1, "m_axis": 64}, inputs=("last_axis",), with_last=("m_axis",)),
        Instance(f"in_{name}", "fxhls_unpack", parameters, {"s_axis": 64, "m_axis": beat_bits, "last_axis": 1},
                 links={"m_axis": f"values_{name}", "last_axis": f"flag_in_{name}"}, with_last=("s_axis",)),
        Instance(f"flags_{name}", "fxhls_fifo", {"W": 1, "DEPTH": 4}, {"s_axis": 1, "m_axis": 1},
                 links={"s_axis": f"flag_in_{name}", "m_axis": f"flag_out_{name}"}),
        Instance(f"out_{name}", "fxhls_pack", parameters | {"X_SIGNED": int(t.signed)},
                 {"s_axis": beat_bits, "last_axis": 1, "m_axis": 64}, inputs=("last_axis",), with_last=("m_axis",),
                 links={"s_axis": f"values_{name}", "last_axis": f"flag_out_{name}"}),
    ]


def test_converters_equal_the_stream_format_under_back_pressure(tmp_path):
    cases = _cases()
    wires = {}
    for case in cases:
        wires |= {f"values_{case['name']}": case["per_beat"] * case["type"].width,
                  f"flag_in_{case['name']}": 1, f"flag_out_{case['name']}": 1}
    instances = [inst for case in cases for inst in _instances(case)]
    build_dir = build_bank(tmp_path, "convert_bank", instances, ["fxhls_unpack", "fxhls_pack", "fxhls_fifo"], wires)

    inputs, outputs = {}, {}
    for case in cases:
        name, value_beats = case["name"], beats(case["x"], case["type"], case["per_beat"])
        inputs |= {f"unpack_{name}_s_axis": case["words"], f"pack_{name}_s_axis": value_beats,
                   f"pack_{name}_last_axis": LAST_FLAGS, f"in_{name}_s_axis": case["words"]}
        outputs |= {f"unpack_{name}_m_axis": len(value_beats), f"unpack_{name}_last_axis": SAMPLES,
                    f"pack_{name}_m_axis": len(case["words"]), f"out_{name}_m_axis": len(case["words"])}
    run = simulate_streams(build_dir, "convert_bank", inputs, outputs, pause=0.3, seed=9, last=True)

    mismatches = {}
    for case in cases:
        name, words = case["name"], case["words"]
        per_sample = len(words) // SAMPLES
        sample_ends = [0] * len(words)
        flagged_ends = [0] * len(words)
        for s in range(SAMPLES):
            flagged_ends[(s + 1) * per_sample - 1] = LAST_FLAGS[s]
        sample_ends[-1] = 1
        checks = {
            "unpack values": (run.outputs[f"unpack_{name}_m_axis"], beats(case["x"], case["type"], case["per_beat"])),
            "unpack last": (run.outputs[f"unpack_{name}_last_axis"], [0] * (SAMPLES - 1) + [1]),
            "pack words": (run.outputs[f"pack_{name}_m_axis"], words),
            "pack tlast": (run.output_last[f"pack_{name}_m_axis"], flagged_ends),
            "chain words": (run.outputs[f"out_{name}_m_axis"], words),
            "chain tlast": (run.output_last[f"out_{name}_m_axis"], sample_ends),
        }
        for what, (got, expected) in checks.items():
            assert len(got) == len(expected), (name, what)
            mismatches[f"{name} {what}"] = sum(g != e for g, e in zip(got, expected))
    assert sum(mismatches.values()) == 0, {k: v for k, v in mismatches.items() if v}
