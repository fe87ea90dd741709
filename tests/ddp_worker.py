"""Worker for test_qfx_ddp.py: trains a tiny QFX model on two CPU processes.

Launched by `python -m torch.distributed.run --standalone --nproc_per_node=2
tests/ddp_worker.py`. Every rank trains the same model on its own data, twice:

* "ddp": wrapped in DistributedDataParallel (gloo), so gradients are averaged;
* "local": the same training without DDP, the control: as the data differ,
  the parameters must come out different, which shows the comparison can fail.

After each, every parameter is all-gathered and compared across ranks with ==.
Rank 0 prints one line, `RESULT <json>`, with, for each run, the parameters that
differ between ranks and, for the learned binary points (`*.int_bits`), their
value on every rank and whether training moved them.
"""

from __future__ import annotations

import gc
import json

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from fxhls import qfx

STEPS = 4
BATCH = 16


class TinyResidual(nn.Module):
    """QFX layers of every kind in a small residual CNN on 1x8x8 inputs."""

    def __init__(self):
        super().__init__()
        self.input = qfx.QInput()
        self.conv1 = qfx.QConv2d(1, 4, 3, padding=1)
        self.bn1 = qfx.QBatchNorm2d(4)
        self.relu1 = qfx.QReLU()
        self.conv2 = qfx.QConv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = qfx.QBatchNorm2d(4)
        self.add = qfx.QAdd()
        self.relu2 = qfx.QReLU()
        self.pool = qfx.QMaxPool2d(2)
        self.global_pool = qfx.QAdaptiveAvgPool2d()
        self.flatten = qfx.QFlatten()
        self.fc = qfx.QLinear(4, 3)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(self.input(x))))
        x = self.relu2(self.add(self.bn2(self.conv2(x)), x))
        return self.fc(self.flatten(self.global_pool(self.pool(x))))


def train(use_ddp: bool, rank: int) -> nn.Module:
    """The model after STEPS SGD steps on this rank's data (same initial weights on all ranks)."""
    torch.manual_seed(0)
    model = TinyResidual()
    trained = DistributedDataParallel(model) if use_ddp else model
    optimizer = torch.optim.SGD(trained.parameters(), lr=0.1, momentum=0.9)
    data = torch.Generator().manual_seed(1000 + rank)
    for _ in range(STEPS):
        x = torch.randn(BATCH, 1, 8, 8, generator=data) * 2
        y = torch.randint(0, 3, (BATCH,), generator=data)
        optimizer.zero_grad()
        nn.functional.cross_entropy(trained(x), y).backward()
        optimizer.step()
    return model


def compare_across_ranks(model: nn.Module) -> dict:
    """Parameters that differ between ranks, and every rank's learned binary points."""
    world = dist.get_world_size()
    differing, int_bits, moved = [], {}, {}
    initial = dict(TinyResidual().named_parameters())
    for name, param in model.named_parameters():
        gathered = [torch.empty_like(param) for _ in range(world)]
        dist.all_gather(gathered, param.detach().contiguous())
        if not all(torch.equal(gathered[0], other) for other in gathered[1:]):
            differing.append(name)
        if name.endswith("int_bits"):
            int_bits[name] = [g.item() for g in gathered]
            moved[name] = not torch.equal(param, initial[name])
    return {"differing": differing, "int_bits": int_bits, "moved": moved}


def main() -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    result = {mode: compare_across_ranks(train(mode == "ddp", rank)) for mode in ("ddp", "local")}
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)
    # A DistributedDataParallel left for the garbage collector until after the
    # process group is gone makes the process abort at exit ("terminate called
    # without an active exception"), now and then: collect it first.
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
