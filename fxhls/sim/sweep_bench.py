"""A cocotb bench for combinational designs (cocotb test module): apply input vectors,
read the outputs.

Configuration (JSON, file named by `FXHLS_BENCH_CONFIG`):
`{"inputs": {port: [int, ...]}, "outputs": [port, ...]}`, every input list equally long.
Result (file named by `FXHLS_BENCH_RESULT`): `{port: [int, ...]}` for each output port,
one value per input vector.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
from cocotb.triggers import Timer


@cocotb.test()
async def sweep_bench(dut):
    """Apply each input vector in turn and record the outputs it settles to."""
    config = json.loads(Path(os.environ["FXHLS_BENCH_CONFIG"]).read_text())
    inputs = {name: getattr(dut, name) for name in config["inputs"]}
    outputs = {name: getattr(dut, name) for name in config["outputs"]}
    steps = {len(values) for values in config["inputs"].values()}
    if len(steps) != 1:
        raise ValueError("every input port needs the same number of values")
    result = {name: [] for name in outputs}
    for step in range(steps.pop()):
        for name, port in inputs.items():
            port.value = config["inputs"][name][step]
        await Timer(1, unit="ns")
        for name, port in outputs.items():
            result[name].append(int(port.value))
    Path(os.environ["FXHLS_BENCH_RESULT"]).write_text(json.dumps(result))
