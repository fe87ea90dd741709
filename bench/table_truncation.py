"""The error of truncated lookup tables (inputs wider than 16 bits) on the full input grid.

For each function and wide input type (output type: the input type, as `--default-type`
gives a float model), the table fxhls builds (`fxhls.fixed.table_grid`: the clamp, the
dropped bits, the entries) against, on every code of the input type, (a) the float64
function and (b) the full table (the function quantized at every code, what a table
without truncation would hold): the largest absolute error, and (b) as a count of codes
that differ and the largest difference in output lsbs. The baseline, measured in the same
run, is the error of the full table against the float64 function (the output type's own
quantization error), so the ratio says what the truncation adds.

Run from the repository root:  .venv/bin/python bench/table_truncation.py
"""

from __future__ import annotations

import numpy as np

from fxhls.fixed import FixedType, quantize
from fxhls.fixed.functions import evaluate, parameters
from fxhls.ir import Node
from fxhls.ir.ops.table import Table, table_attrs

CASES = [(function, t) for t in ("ap_fixed<18,8>", "ap_fixed<20,8>", "ap_fixed<24,10>")
         for function in ("Sigmoid", "Tanh", "Elu", "Softplus")]


def measure(function: str, spelling: str) -> dict:
    in_type = FixedType.parse(spelling)
    params = parameters(function, {})
    attrs = table_attrs(function, params, in_type, in_type)
    grid = np.arange(in_type.min_code, in_type.max_code + 1, dtype=np.float64) * in_type.lsb
    exact = evaluate(function, grid, params)
    full = quantize(exact, in_type)
    truncated = Table.execute(Node("Table", "t", ["x"], ["y"], attrs), [grid], [in_type])[0]
    in_range = (exact >= in_type.min) & (exact <= in_type.max)  # where the output type holds the function
    return {"function": function, "type": spelling, "clamp": f"[{attrs['clamp_low'] * in_type.lsb:.4g}, "
                                                            f"{attrs['clamp_high'] * in_type.lsb:.4g}]",
            "drop_bits": attrs["drop_bits"], "entries": 1 + ((attrs["clamp_high"] - attrs["clamp_low"] +
                                                               ((1 << attrs["drop_bits"]) >> 1)) >> attrs["drop_bits"]),
            "full_vs_float": float(np.abs(full - exact)[in_range].max()),
            "truncated_vs_float": float(np.abs(truncated - exact)[in_range].max()),
            "codes_differing": float((truncated != full).mean()),
            "largest_lsbs": int(np.abs(truncated - full).max() / in_type.lsb)}


def main() -> None:
    header = ("function", "type", "clamp", "drop_bits", "entries", "full_vs_float", "truncated_vs_float", "ratio",
              "codes_differing", "largest_lsbs")
    print(" | ".join(header))
    for function, spelling in CASES:
        row = measure(function, spelling)
        row["ratio"] = row["truncated_vs_float"] / row["full_vs_float"]
        print(" | ".join(f"{row[key]:.3g}" if isinstance(row[key], float) else str(row[key]) for key in header))


if __name__ == "__main__":
    main()
