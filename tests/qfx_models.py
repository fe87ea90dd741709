"""Small models the tests share: float models for QFX conversion and calibration, and a
zoo of QFX models covering every layer kind for export, passes and backends."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fxhls.qfx import (QAdaptiveAvgPool2d, QAdd, QAvgPool2d, QBatchNorm1d, QBatchNorm2d, QConv2d,
                       QFlatten, QInput, QLinear, QMaxPool2d, QReLU, QSign)


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 4))


class ResidualCNN(nn.Module):
    """conv-BN-ReLU, then conv-BN added to that (a residual add with `+`), F.relu,
    max pooling, global average pooling, torch.flatten and a classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        z = F.relu(self.bn2(self.conv2(y)) + y)
        return self.fc(torch.flatten(self.gap(self.pool(z)), 1))


def with_statistics(model: nn.Module, seed: int = 0) -> nn.Module:
    """`model` with random (not initial) BatchNorm statistics and affine parameters."""
    generator = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            for tensor, low, high in ((m.running_mean, -1, 1), (m.running_var, 0.5, 2),
                                      (m.weight, 0.5, 1.5), (m.bias, -0.5, 0.5)):
                with torch.no_grad():
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) * (high - low) + low)
    return model


class QResidualCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp, self.conv1, self.bn1 = QInput(), QConv2d(1, 4, 3, padding=1), QBatchNorm2d(4)
        self.relu1, self.conv2 = QReLU(), QConv2d(4, 4, 3, padding=1, bias=False, khot=2)
        self.bn2, self.add, self.relu2 = QBatchNorm2d(4, khot=1), QAdd(), QReLU()
        self.pool, self.avg, self.gap = QMaxPool2d(2), QAvgPool2d(1), QAdaptiveAvgPool2d(1)
        self.flat, self.fc = QFlatten(), QLinear(4, 3)

    def forward(self, x):
        y = self.relu1(self.bn1(self.conv1(self.inp(x))))
        z = self.relu2(self.add(self.bn2(self.conv2(y)), y))
        return self.fc(self.flat(self.gap(self.avg(self.pool(z)))))


def qfx_zoo():
    """(name, QFX model, sample shape) for every layer kind: K-hot, binary, narrowed accumulators."""
    torch.manual_seed(0)
    yield "mlp", nn.Sequential(QInput(), QLinear(16, 12), QReLU(), QLinear(12, 4)), (16,)
    yield "khot", nn.Sequential(QInput(), QLinear(16, 12, khot=2), QBatchNorm1d(12), QReLU(),
                                QLinear(12, 4, khot=1)), (16,)
    yield "narrow_acc", nn.Sequential(QInput(), QLinear(16, 8, acc="ap_fixed<10,3,AP_RND,AP_SAT>"),
                                      QReLU(), QFlatten()), (16,)
    yield "narrow_conv", nn.Sequential(QInput(), QConv2d(2, 3, 3, stride=2, padding=1,
                                                         acc="ap_fixed<9,2,AP_TRN,AP_WRAP>")), (2, 7, 7)
    yield "binary", nn.Sequential(QInput(), QConv2d(2, 4, 3, binary=True), QBatchNorm2d(4), QSign(),
                                  QFlatten(), QLinear(100, 3, binary=True, binary_scale=True)), (2, 7, 7)
    yield "cnn", with_statistics(QResidualCNN()), (1, 8, 8)
    yield "avg3", nn.Sequential(QInput(), QAvgPool2d(3), QAdaptiveAvgPool2d(1)), (1, 9, 9)
