"""A stand-in accelerator for the deploy tests, written apart from fxhls.deploy.packing.

It decodes stream words with Python int arithmetic, applies a known integer function
to each sample's codes, and encodes the results. Used in-process as a transport and,
run as a script, as a simulator speaking the file protocol:

    python deploy_fake_device.py DESIGN_JSON IN_WORDS OUT_WORDS
"""

from __future__ import annotations

import json
import sys

import numpy as np


def device_function(codes: list[int]) -> list[int]:
    """The 'accelerator': output code j = 3 * (j + 1) * input code j - 7 * j, for 5 outputs."""
    return [3 * (j + 1) * codes[j] - 7 * j for j in range(5)]


def decode(words: list[int], n: int, lane: int, signed: bool) -> list[int]:
    per_word = 64 // lane
    codes = [(words[i // per_word] >> (lane * (i % per_word))) & ((1 << lane) - 1) for i in range(n)]
    return [c - (1 << lane) if signed and c >> (lane - 1) else c for c in codes]


def encode(codes: list[int], lane: int) -> list[int]:
    per_word = 64 // lane
    words = [0] * (-(-len(codes) // per_word))
    for i, code in enumerate(codes):
        words[i // per_word] |= (code % (1 << lane)) << (lane * (i % per_word))
    return words


class FakeDevice:
    """A transport: records each transfer's length, checks it holds whole samples."""

    def __init__(self, design: dict, max_words: int | None = None):
        self.design, self.max_words, self.transfers = design, max_words, []

    def transfer(self, words: np.ndarray, n_out_words: int) -> np.ndarray:
        self.transfers.append(len(words))
        out = run_device(self.design, [int(w) for w in words])
        assert len(out) == n_out_words
        return np.array(out, dtype=np.uint64)


def run_device(design: dict, words: list[int]) -> list[int]:
    spec_in, spec_out = design["input"], design["output"]
    assert len(words) % spec_in["words"] == 0, "a transfer must hold whole samples"
    out = []
    for start in range(0, len(words), spec_in["words"]):
        codes = decode(words[start:start + spec_in["words"]], spec_in["values"], spec_in["lane"], spec_in["signed"])
        out += encode(device_function(codes), spec_out["lane"])
    return out


def main(design_file: str, in_path: str, out_path: str) -> int:
    design = json.loads(open(design_file).read())
    lines = open(in_path).read().splitlines()
    if any(len(line) != 16 for line in lines):
        print("malformed input word", file=sys.stderr)
        return 3
    out = run_device(design, [int(line, 16) for line in lines])
    with open(out_path, "w") as f:
        f.writelines(f"{word:016x}\n" for word in out)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
