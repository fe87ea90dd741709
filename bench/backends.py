"""Both backends of a model at one `--target-fps`: the HLS C++ (fxhls's estimates) against
fxhls's Verilog (co-simulated in Verilator, synthesized per stage by yosys).

For the bundled MNIST K-hot CNN and the FracBNN-like binarized ResNet (`bench/fracbnn.py`),
each folded for the model's target at 250 MHz on the Ultra96-V2:
- HLS: interval and latency bound of `fxhls build`'s report (estimates), DSP slices; the
  LUT, FF and BRAM of the C++ only Vitis HLS can say (not run here).
- RTL: interval and latency co-simulated without back-pressure (and the outputs compared
  with the emulator, under back-pressure), the estimate (its slowest stage), LUT, FF,
  BRAM36 and DSP summed over the stages of yosys `synth_xilinx -family xcup` without
  flattening (`fxhls report`'s per-stage numbers) and the longest path in LUT levels.
Printed as a table with the RTL/HLS ratios; the figures also go to OUT/backends.json.
Where the RTL cannot reach the target it is built at its fastest, and the table says so.

    .venv/bin/python bench/backends.py                      # both models, yosys cached per design
    .venv/bin/python bench/backends.py --models mnist --no-synth

yosys runs once per design (cached by its sources): the FracBNN-like network's first
per-stage synthesis takes minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from fxhls.deploy.interface import stream_interface
from fxhls.hls.parallelism import ParallelismOptions
from fxhls.hls.writer import write_hls_project
from fxhls.ir.passes import lower_for_hardware, split_host_edges
from fxhls.onnx import load_onnx
from fxhls.rtl.folding import RtlParallelism
from fxhls.rtl.layer_report import layer_rows, synthesize_instances
from fxhls.rtl.writer import write_rtl
from fxhls.sim.rtl_cosim import cosim_design

BOARD, CLOCK_MHZ = "ultra96v2", 250
MNIST = Path(__file__).resolve().parent.parent / "examples" / "models" / "mnist_khot_cnn"
# The targets: each model's fastest HLS interval (MNIST: its first convolution's 30 x 30
# padded pixels; FracBNN: its input converter's 3,072 values), where both backends can meet.
TARGET_FPS = {"mnist": 277_000, "fracbnn": 81_000}
RESOURCES = ("lut", "ff", "bram36", "dsp")


def mnist(folder: Path):
    """The bundled MNIST model's hardware graph and 4 of its test digits."""
    graph = load_onnx(f"{MNIST}.onnx")
    split_host_edges(graph)
    return lower_for_hardware(graph), np.load(f"{MNIST}_inputs.npy")[:4]


def fracbnn(folder: Path):
    """The FracBNN-like network (random weights, bench/fracbnn.py) and 2 random images."""
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fracbnn import FracBnnLike, hardware_graph, randomized

    torch.manual_seed(0)
    graph, _ = hardware_graph(randomized(FracBnnLike()), (3, 32, 32), folder)
    return graph, np.random.default_rng(0).normal(size=(2, 3, 32, 32)) * 2


MODELS = {"mnist": mnist, "fracbnn": fracbnn}


def hls_figures(graph, design: dict, folder: Path, fps: float) -> dict:
    summary = write_hls_project(graph, design, folder / "hls", ParallelismOptions(target_fps=fps)).summary
    return {"interval": summary["interval"], "latency": summary["latency_bound"], "dsp": summary["dsp"]}


def rtl_figures(graph, design: dict, folder: Path, fps: float, x: np.ndarray, synth: bool) -> dict:
    out = folder / "rtl_build"
    out.mkdir(parents=True, exist_ok=True)
    (out / "design.json").write_text(json.dumps(design))
    note = ""
    try:
        rtl = write_rtl(graph, design, out, RtlParallelism(target_fps=fps))
    except ValueError as refusal:  # out of reach: its fastest
        note = str(refusal)
        rtl = write_rtl(graph, design, out, RtlParallelism())
    _, timing = cosim_design(out, x, graph, pause=0.3, max_cycles=8 * (len(x) + 2) * rtl.cycles_per_sample + 20_000)
    figures = {"interval": timing["interval_cycles"], "latency": timing["latency_cycles"],
               "estimate": rtl.cycles_per_sample, "mismatches": timing["mismatches"], "note": note,
               "folding": {layer.name: [layer.mvu.simd, layer.mvu.pe] for layer in rtl.layers}}
    if synth:
        numbers, design_levels = synthesize_instances(rtl.sources, rtl.top, "xcup")
        stages = json.loads((out / "rtl" / "stages.json").read_text())["stages"]
        rows = layer_rows(numbers, stages)
        figures |= {key: sum(row[key] for row in rows) for key in RESOURCES}
        figures["lut_levels"] = design_levels
    return figures


def ratio(rtl, hls) -> str:
    return f"{rtl / hls:.2f}x" if isinstance(rtl, (int, float)) and isinstance(hls, (int, float)) and hls else ""


def table(results: dict) -> str:
    head = "| model | target FPS | backend | interval (clocks) | latency (clocks) | LUT | FF | BRAM36 | DSP | LUT levels |"
    lines = [head, "|" + "---|" * 3 + "---:|" * 7]
    for name, result in results.items():
        hls, rtl = result["hls"], result["rtl"]
        lines.append(f"| {name} | {result['target_fps']:,.0f} | HLS (estimates) | {hls['interval']:,} | "
                     f"{hls['latency']:,} (bound) | n/a | n/a | n/a | {hls['dsp']} | n/a |")
        cells = [f"{rtl.get(key, ''):,}" if isinstance(rtl.get(key), (int, float)) else "" for key in
                 (*RESOURCES, "lut_levels")]
        lines.append(f"| {name} | {result['target_fps']:,.0f} | RTL (co-simulated; yosys) | {rtl['interval']:,.0f} | "
                     f"{rtl['latency']:,.0f} | {' | '.join(cells)} |")
        lines.append(f"| {name} | | RTL / HLS | {ratio(rtl['interval'], hls['interval'])} | "
                     f"{ratio(rtl['latency'], hls['latency'])} | | | | {ratio(rtl['dsp'], hls['dsp']) if 'dsp' in rtl else ''} | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="mnist,fracbnn", help="comma-separated: mnist, fracbnn")
    parser.add_argument("--target-fps", action="append", default=[],
                        help="MODEL=FPS, e.g. mnist=277000 (default: %s)" % TARGET_FPS)
    parser.add_argument("--no-synth", action="store_true", help="skip yosys")
    parser.add_argument("--out", default=None, help="where to write the designs (default: a temporary folder)")
    args = parser.parse_args(argv)
    targets = dict(TARGET_FPS)
    for entry in args.target_fps:
        name, _, value = entry.partition("=")
        targets[name] = float(value)
    folder = Path(args.out or tempfile.mkdtemp(prefix="backends_"))
    results = {}
    for name in args.models.split(","):
        work = folder / name
        work.mkdir(parents=True, exist_ok=True)
        graph, x = MODELS[name](work)
        design = stream_interface(graph, name, BOARD, CLOCK_MHZ)
        fps = targets[name]
        results[name] = {"target_fps": fps, "hls": hls_figures(graph, design, work, fps),
                         "rtl": rtl_figures(graph, design, work, fps, x, not args.no_synth)}
        rtl = results[name]["rtl"]
        print(f"{name}: RTL estimate {rtl['estimate']} clocks, co-simulated {rtl['interval']:g}; "
              f"{rtl['mismatches']} outputs differ from the emulator" + (f"; {rtl['note']}" if rtl["note"] else ""))
    print(table(results))
    (folder / "backends.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"figures: {folder / 'backends.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
