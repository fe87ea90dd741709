"""Check that the C simulation computed exactly what the emulator computed (`make demo`).

    python examples/compare_outputs.py CSIM.npy EMULATE.npy [LABELS.npy]

Counts the outputs that differ (the claim is bit-exactness: 0, compared with ==) and,
given labels, prints the predicted digits and their accuracy. Exit status 1 on any
difference.
"""

from __future__ import annotations

import sys

import numpy as np


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    csim, emulated = np.load(argv[0]), np.load(argv[1])
    if csim.shape != emulated.shape:
        print(f"C simulation gave shape {csim.shape}, the emulator {emulated.shape}", file=sys.stderr)
        return 1
    differing = int((csim != emulated).sum())
    print(f"C simulation vs emulator: {differing} of {csim.size} outputs differ ({csim.shape[0]} samples)")
    if len(argv) == 3:
        labels, predicted = np.load(argv[2]), csim.argmax(axis=1)
        print(f"predicted: {' '.join(map(str, predicted))}")
        print(f"labels:    {' '.join(map(str, labels))}")
        print(f"accuracy on these samples: {100.0 * (predicted == labels).mean():.1f}%")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
