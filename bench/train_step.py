"""Benchmark one training step of QFX layers against float PyTorch and Brevitas QAT.

One step is forward, loss, backward and an SGD step on a batch of random
MNIST-sized data (1x28x28, ten classes). Each architecture is written once
(`residual_cnn`, `mlp`) over a kit of layer constructors, and built three ways (and the float one run a second way):

* float: plain `torch.nn` layers;
* QFX: `fxhls.qfx` layers with their defaults: 8-bit input, weights and ReLU
  outputs, 16-bit bias, conv/BatchNorm/add/pool outputs and BatchNorm affine,
  every binary point learned but the input's, calibrated (on the first warm-up
  batch) and frozen; `qfx.fuse` pairs each QLinear or QBatchNorm with the QReLU after it;
* float with the input's gradient, for information: the float model, its input
  requiring a gradient. Brevitas (and QFX with `input_binary_point="learned"`) learn the
  input quantizer's scale or binary point from the loss, which needs the gradient at the
  input: a GEMM through the first layer that plain float training skips. This column
  shows what that costs alone;
* QFX's floor: the QFX model with every quantizer replaced by one multiply (and
  BatchNorm's by its float affine): what any implementation of the quantizers,
  however cheap its autograd, would still cost on top of the layers;
* Brevitas: fixed-point QAT with power-of-two scales (`brevitas.quant`
  `*FixedPoint` quantizers): 8-bit input, weights, ReLU outputs and residual
  sum, everything else float. QFX quantizes more tensors than this, so the
  comparison leans in Brevitas' favour.

The CNN: conv 1->16, BN, ReLU, 2x2 max pool, then a residual block (conv 16->16,
BN, ReLU, conv 16->16, BN, add the block's input, ReLU), global average pool and
a linear layer to 10. The MLP: 784 -> 256 -> 128 -> 10 with ReLUs.

Brevitas' activation quantizers collect statistics for their first steps before
their scale becomes a learned parameter; the warm-up runs past that phase
(shortened to `BREVITAS_STATS_STEPS`), so every column is a steady-state step.
Each timing is the median of `--reps` repetitions of `--steps` steps; within a
repetition the models run one after the other in a rotating order, so
machine drift hits all of them. Threads default to one, for steadier figures on
a shared machine.

Needs Brevitas (`.venv/bin/pip install brevitas`). Run from the repository root:
    .venv/bin/python bench/train_step.py [--batch 64] [--reps 15] [--threads 1] [--cpu-time]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from dataclasses import dataclass
from typing import Callable

import torch
from brevitas import nn as bnn
from brevitas.quant import (
    Int8ActPerTensorFixedPoint,
    Int8WeightPerTensorFixedPoint,
    Uint8ActPerTensorFixedPoint,
)
from torch import nn

from fxhls import qfx
from fxhls.qfx.quantizer import FixedQuantizer

BREVITAS_STATS_STEPS = 5
GOAL_VS_FLOOR = 1.2  # QFX step time at most this many times its floor's, on both models
GOAL_VS_FLOAT = 1.5  # and at most this many times the float one, on the CNN
GOAL_VS_BREVITAS = 0.5  # and at most this fraction of Brevitas's, on both models


@dataclass(frozen=True)
class Kit:
    """Constructors for the layers an architecture is made of."""

    input: Callable[[], nn.Module]
    conv: Callable[[int, int], nn.Module]  # 3x3, padding 1, no bias (a BatchNorm follows)
    batchnorm: Callable[[int], nn.Module]
    relu: Callable[[], nn.Module]
    add: Callable[[], nn.Module]  # forward(a, b) -> a + b
    maxpool: Callable[[], nn.Module]  # 2x2
    global_pool: Callable[[], nn.Module]
    flatten: Callable[[], nn.Module]
    linear: Callable[[int, int], nn.Module]


class FloatAdd(nn.Module):
    def forward(self, a, b):
        return a + b


FLOAT = Kit(
    input=nn.Identity,
    conv=lambda cin, cout: nn.Conv2d(cin, cout, 3, padding=1, bias=False),
    batchnorm=nn.BatchNorm2d,
    relu=nn.ReLU,
    add=FloatAdd,
    maxpool=lambda: nn.MaxPool2d(2),
    global_pool=lambda: nn.AdaptiveAvgPool2d(1),
    flatten=nn.Flatten,
    linear=nn.Linear,
)

QFX = Kit(
    input=qfx.QInput,
    conv=lambda cin, cout: qfx.QConv2d(cin, cout, 3, padding=1, bias=False),
    batchnorm=qfx.QBatchNorm2d,
    relu=qfx.QReLU,
    add=qfx.QAdd,
    maxpool=lambda: qfx.QMaxPool2d(2),
    global_pool=qfx.QAdaptiveAvgPool2d,
    flatten=qfx.QFlatten,
    linear=qfx.QLinear,
)

_INT8_ACT = Int8ActPerTensorFixedPoint.let(collect_stats_steps=BREVITAS_STATS_STEPS)
_UINT8_ACT = Uint8ActPerTensorFixedPoint.let(collect_stats_steps=BREVITAS_STATS_STEPS)

BREVITAS = Kit(
    input=lambda: bnn.QuantIdentity(act_quant=_INT8_ACT),
    conv=lambda cin, cout: bnn.QuantConv2d(
        cin, cout, 3, padding=1, bias=False, weight_quant=Int8WeightPerTensorFixedPoint
    ),
    batchnorm=nn.BatchNorm2d,
    relu=lambda: bnn.QuantReLU(act_quant=_UINT8_ACT),
    add=lambda: bnn.QuantEltwiseAdd(input_quant=None, output_quant=_INT8_ACT),
    maxpool=lambda: nn.MaxPool2d(2),
    global_pool=lambda: nn.AdaptiveAvgPool2d(1),
    flatten=nn.Flatten,
    linear=lambda i, o: bnn.QuantLinear(i, o, bias=True, weight_quant=Int8WeightPerTensorFixedPoint),
)


class ResidualCNN(nn.Module):
    """conv-BN-ReLU, max pool, a residual block of two convs, global pool, linear."""

    def __init__(self, kit: Kit, channels: int = 16, classes: int = 10):
        super().__init__()
        self.input = kit.input()
        self.stem = nn.Sequential(kit.conv(1, channels), kit.batchnorm(channels), kit.relu(), kit.maxpool())
        self.branch = nn.Sequential(
            kit.conv(channels, channels), kit.batchnorm(channels), kit.relu(),
            kit.conv(channels, channels), kit.batchnorm(channels),
        )
        self.add, self.relu = kit.add(), kit.relu()
        self.head = nn.Sequential(kit.global_pool(), kit.flatten(), kit.linear(channels, classes))

    def forward(self, x):
        x = self.stem(self.input(x))
        return self.head(self.relu(self.add(self.branch(x), x)))


def mlp(kit: Kit, classes: int = 10) -> nn.Module:
    return nn.Sequential(
        kit.input(), kit.flatten(),
        kit.linear(784, 256), kit.relu(),
        kit.linear(256, 128), kit.relu(),
        kit.linear(128, classes),
    )


class Trainer:
    """One model, its optimizer and a fixed batch: `step()` runs one training step."""

    def __init__(self, model: nn.Module, batch: int, input_gradient: bool = False,
                 context=contextlib.nullcontext):
        generator = torch.Generator().manual_seed(0)
        self.context = context
        self.model = model.train()
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        self.x = torch.rand(batch, 1, 28, 28, generator=generator).requires_grad_(input_gradient)
        self.y = torch.randint(0, 10, (batch,), generator=generator)

    def step(self) -> None:
        with self.context():
            self.optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(self.model(self.x), self.y)
            loss.backward()
            self.optimizer.step()


@contextlib.contextmanager
def quantizers_as_a_multiply():
    """Within the block, every FixedQuantizer computes x * 1 (relu(x) for a ReLU's, the
    float affine for a BatchNorm's, each tensor times 1 where a layer quantizes its weight
    and bias together): one native autograd node each, no pass over weights. A QLinear
    takes its unfused path, its quantizers being these multiplies, and so does a pair fused
    by `qfx.fuse` (each layer then runs its stand-ins)."""
    stand_ins = {
        (FixedQuantizer, "forward"): lambda self, x, exact=None: x * 1.0,
        (FixedQuantizer, "relu"): lambda self, x: torch.relu(x),
        (FixedQuantizer, "affine"): lambda self, x, scale, shift: torch.addcmul(shift, x, scale),
        (FixedQuantizer, "quantize_together"): staticmethod(lambda quantizers, tensors: [x * 1.0 for x in tensors]),
        (FixedQuantizer, "affine_relu"): lambda self, x, scale, shift, relu: None,
        (qfx.QLinear, "_in_one_node"): lambda self, x, relu=None: None,
    }
    real = {(cls, name): cls.__dict__[name] for cls, name in stand_ins}
    for (cls, name), stand_in in stand_ins.items():
        setattr(cls, name, stand_in)
    try:
        yield
    finally:
        for (cls, name), method in real.items():
            setattr(cls, name, method)


def time_steps(trainer: Trainer, steps: int, clock=time.perf_counter) -> float:
    """Milliseconds per step, averaged over `steps` consecutive steps."""
    start = clock()
    for _ in range(steps):
        trainer.step()
    return (clock() - start) * 1e3 / steps


def measure(build, batch: int, reps: int, steps: int, warmup: int, clock) -> dict[str, float]:
    """Median ms per step of float, float with the input's gradient, QFX, QFX's floor and
    Brevitas for the architecture `build(kit)`."""
    torch.manual_seed(0)
    trainers = {"float": Trainer(build(FLOAT), batch), "float_dx": Trainer(build(FLOAT), batch, True),
                "qfx": Trainer(qfx.fuse(build(QFX)), batch),
                "qfx_floor": Trainer(qfx.fuse(build(QFX)), batch, context=quantizers_as_a_multiply),
                "brevitas": Trainer(build(BREVITAS), batch)}
    for trainer in trainers.values():
        for _ in range(warmup):
            trainer.step()
    names = list(trainers)
    samples = {name: [] for name in names}
    for rep in range(reps):
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            samples[name].append(time_steps(trainers[name], steps, clock))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--steps", type=int, default=3, help="steps per timing")
    parser.add_argument("--warmup", type=int, default=2 * BREVITAS_STATS_STEPS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cpu-time", action="store_true",
                        help="time the CPU this thread spends (with --threads 1, which other work on a "
                             "shared machine moves less than wall-clock time) instead of wall-clock time")
    args = parser.parse_args()
    clock = time.thread_time if args.cpu_time else time.perf_counter
    torch.set_num_threads(args.threads)

    print(f"batch {args.batch}, {args.threads} thread(s), median of {args.reps} x {args.steps} steps, "
          f"{'CPU' if args.cpu_time else 'wall-clock'} time, torch {torch.__version__}\n")
    print("| model | float ms | float + input gradient ms | QFX ms | QFX floor ms | Brevitas ms | QFX/float "
          "| QFX floor/float | QFX/QFX floor | QFX/Brevitas |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, build in (("residual CNN", ResidualCNN), ("MLP", mlp)):
        ms = measure(build, args.batch, args.reps, args.steps, args.warmup, clock)
        print(f"| {name} | {ms['float']:.2f} | {ms['float_dx']:.2f} | {ms['qfx']:.2f} | {ms['qfx_floor']:.2f} "
              f"| {ms['brevitas']:.2f} | {ms['qfx'] / ms['float']:.2f} | {ms['qfx_floor'] / ms['float']:.2f} "
              f"| {ms['qfx'] / ms['qfx_floor']:.2f} | {ms['qfx'] / ms['brevitas']:.2f} |")
    print(f"\nGoals: QFX/QFX floor <= {GOAL_VS_FLOOR} on both models, QFX/float <= {GOAL_VS_FLOAT} on the CNN, "
          f"QFX/Brevitas <= {GOAL_VS_BREVITAS} on both models.")


if __name__ == "__main__":
    main()
