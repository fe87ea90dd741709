"""Small float models the QFX conversion and calibration tests share."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


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
