"""The issue's bar: a binarized CIFAR-10-shaped ResNet (FracBNN-like) as RTL for the Ultra96-V2.

The network (random weights: the figures are hardware figures): a 32x32x3 8-bit input,
a fixed-point first convolution with K-hot (K=2) weights and a K-hot BatchNorm, then the
three stages of ResNet-20 (16, 32, 64 channels; 6 binary 3x3 convolutions each, the
first of stages 2 and 3 with stride 2). Every binary convolution reads the sign of the
residual stream (XNOR-popcount), is followed by a K-hot (K=1) BatchNorm and, unless it
downsamples, added to its input (a shortcut per convolution, as in Bi-Real Net and
FracBNN); global average pooling and a K-hot classifier end it. No multiplier anywhere.

    .venv/bin/python bench/fracbnn.py                  # RTL, cycle estimate, yosys resources
    .venv/bin/python bench/fracbnn.py --cosim-layers   # + co-simulate one block of each kind
    .venv/bin/python bench/fracbnn.py --cosim-full     # + the whole network, 2 images (slow)

Reference (FracBNN on the Ultra96-V2): 250 MHz, 2,807 FPS, 126 DSP, 51,444 LUT.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fxhls.deploy.interface import stream_interface
from fxhls.ir.passes import lower_for_hardware
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import (
    QAdaptiveAvgPool2d,
    QAdd,
    QBatchNorm2d,
    QConv2d,
    QFlatten,
    QInput,
    QLinear,
    QSign,
)
from fxhls.rtl.folding import RtlParallelism
from fxhls.rtl.report import synthesize
from fxhls.rtl.writer import write_rtl

CLOCK_MHZ = 250
FRACBNN = {"clock_mhz": 250, "fps": 2807, "dsp": 126, "lut": 51444}
TARGET_FPS = 3000  # aim a little above FracBNN's
ACTIVATION = "ap_fixed<8,4,AP_RND_CONV,AP_SAT>"  # the residual stream


class BinaryConv(nn.Module):
    """sign(x) -> binary 3x3 conv -> K-hot BatchNorm, plus x when the shape is kept."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.sign = QSign()
        self.conv = QConv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False, binary=True)
        self.bn = QBatchNorm2d(out_channels, output=ACTIVATION, khot=1)
        self.add = QAdd(output=ACTIVATION) if stride == 1 and in_channels == out_channels else None

    def forward(self, x):
        y = self.bn(self.conv(self.sign(x)))
        return self.add(y, x) if self.add is not None else y


class FracBnnLike(nn.Module):
    def __init__(self, widths=(16, 32, 64), convs_per_stage: int = 6, classes: int = 10):
        super().__init__()
        self.inp = QInput()
        self.stem = QConv2d(3, widths[0], 3, padding=1, bias=False, khot=2)
        self.stem_bn = QBatchNorm2d(widths[0], output=ACTIVATION, khot=1)
        layers, channels = [], widths[0]
        for stage, width in enumerate(widths):
            for index in range(convs_per_stage):
                stride = 2 if stage > 0 and index == 0 else 1
                layers.append(BinaryConv(channels, width, stride))
                channels = width
        self.body = nn.Sequential(*layers)
        self.gap, self.flat = QAdaptiveAvgPool2d(1), QFlatten()
        self.fc = QLinear(channels, classes, khot=2)

    def forward(self, x):
        x = self.stem_bn(self.stem(self.inp(x)))
        return self.fc(self.flat(self.gap(self.body(x))))


def randomized(model: nn.Module, seed: int = 0) -> nn.Module:
    """`model` in evaluation mode with random BatchNorm statistics and affine parameters."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            for tensor, low, high in ((module.running_mean, -2, 2), (module.running_var, 0.5, 4),
                                      (module.weight, 0.25, 1.5), (module.bias, -0.5, 0.5)):
                with torch.no_grad():
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) * (high - low) + low)
    return model.eval()


def hardware_graph(model: nn.Module, shape, folder: Path):
    path = folder / "model.onnx"
    export_onnx(model, torch.randn(2, *shape), path)
    return lower_for_hardware(load_onnx(path)), path


def block_models() -> dict[str, tuple[nn.Module, tuple[int, ...]]]:
    """One network per layer kind of the bar, at its place's shape: the K-hot stem, a
    binary residual block at 32x32x16, a downsampling block, the last block with the
    head (global average pooling, K-hot classifier)."""
    torch.manual_seed(1)
    full = FracBnnLike()
    return {
        "stem": (nn.Sequential(QInput(), full.stem, full.stem_bn), (3, 32, 32)),
        "block16": (nn.Sequential(QInput(ACTIVATION), BinaryConv(16, 16)), (16, 32, 32)),
        "down32": (nn.Sequential(QInput(ACTIVATION), BinaryConv(16, 32, stride=2)), (16, 32, 32)),
        "head64": (nn.Sequential(QInput(ACTIVATION), BinaryConv(64, 64), full.gap, full.flat, full.fc), (64, 8, 8)),
    }


def write_design(name: str, model: nn.Module, shape, folder: Path):
    """DIR = folder/name with design.json and rtl/ for `model` at the target FPS."""
    out = folder / name
    out.mkdir(parents=True, exist_ok=True)
    graph, _ = hardware_graph(randomized(model), shape, out)
    design = stream_interface(graph, name, "ultra96v2", CLOCK_MHZ)
    (out / "design.json").write_text(json.dumps(design))
    rtl = write_rtl(graph, design, out, RtlParallelism(target_fps=TARGET_FPS))
    return out, graph, design, rtl


def cosimulate(name: str, model: nn.Module, shape, folder: Path, images: int = 2) -> dict:
    """Co-simulate `images` random images through the RTL of `model` (Verilator, random
    back-pressure for the values, none for the timing); the summary of fxhls cosim."""
    from fxhls.sim.rtl_cosim import cosim_design

    out, graph, _, rtl = write_design(name, model, shape, folder)
    x = np.random.default_rng(0).normal(size=(images, *shape)) * 2
    started = time.time()
    max_cycles = 4 * (images + 1) * rtl.cycles_per_sample + 10_000  # a deadlock ends it
    _, summary = cosim_design(out, x, graph, pause=0.1, max_cycles=max_cycles)
    return {**summary, "estimated_cycles": rtl.cycles_per_sample, "seconds": round(time.time() - started, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=None, help="where to write the RTL (default: a temporary folder)")
    parser.add_argument("--no-synth", action="store_true", help="skip yosys (minutes for the whole network)")
    parser.add_argument("--cosim-layers", action="store_true", help="co-simulate one network per layer kind")
    parser.add_argument("--cosim-full", action="store_true", help="co-simulate the whole network (slow)")
    args = parser.parse_args(argv)
    folder = Path(args.out or tempfile.mkdtemp(prefix="fracbnn_"))
    torch.manual_seed(0)
    out, _, _, rtl = write_design("fracbnn", FracBnnLike(), (3, 32, 32), folder)
    fps = CLOCK_MHZ * 1e6 / rtl.cycles_per_sample
    figures = {"rtl": str(out / "rtl"), "compute_layers": len(rtl.layers), "cycles_per_image": rtl.cycles_per_sample,
               "fps_at_250mhz": round(fps), "folding": {layer.name: [layer.mvu.simd, layer.mvu.pe] for layer in rtl.layers}}
    print(f"{len(rtl.layers)} compute layers; {rtl.cycles_per_sample} clocks per image (estimate) = {fps:,.0f} FPS "
          f"at {CLOCK_MHZ} MHz (FracBNN: {FRACBNN['fps']:,})")
    if not args.no_synth:
        started = time.time()
        used = synthesize(rtl.sources, rtl.top, "xcup")
        figures["yosys"] = {"lut": used.lut, "ff": used.ff, "dsp": used.dsp, "bram36": used.bram36,
                            "lut_as_memory": used.lut_as_memory, "seconds": round(time.time() - started)}
        print(f"yosys synth_xilinx -family xcup: {used.lut:,} LUT, {used.ff:,} FF, {used.dsp} DSP48E2, "
              f"{used.bram36:g} BRAM36 (FracBNN: {FRACBNN['lut']:,} LUT, {FRACBNN['dsp']} DSP)")
    if args.cosim_layers:
        figures["cosim_layers"] = {}
        for name, (model, shape) in block_models().items():
            figures["cosim_layers"][name] = summary = cosimulate(name, model, shape, folder)
            print(f"{name}: {summary['mismatches']} mismatches, interval {summary['interval_cycles']:g} clocks "
                  f"(estimate {summary['estimated_cycles']}), {summary['fps']:,.0f} FPS at {CLOCK_MHZ} MHz")
    if args.cosim_full:
        torch.manual_seed(0)
        figures["cosim_full"] = summary = cosimulate("fracbnn_full", FracBnnLike(), (3, 32, 32), folder)
        print(f"whole network: {summary['mismatches']} mismatches, interval {summary['interval_cycles']:g} clocks, "
              f"{summary['fps']:,.0f} FPS at {CLOCK_MHZ} MHz")
    (folder / "fracbnn.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures: {folder / 'fracbnn.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
