"""QFX models for the RTL top's forks, reordering Flatten and wide padding: a
torchvision-style ResNet block with a 1x1 downsample shortcut (a Conv and BatchNorm on the
shortcut), a tensor read by three stages, a tensor read twice by one Add, a flattened image
as the output, one read by a dense layer whose accumulator rounds and saturates (so in
ONNX's order), and convolutions padded by as much as their kernel (windows wholly in the
padding)."""

from __future__ import annotations

import torch
from torch import nn

from fxhls.qfx import QAdd, QBatchNorm2d, QConv2d, QFlatten, QInput, QLinear, QReLU

from qfx_models import with_statistics


class QDownsampleBlock(nn.Module):
    """conv3x3 stride 2-BN-ReLU-conv3x3-BN plus a conv1x1 stride 2-BN shortcut, then ReLU
    (torchvision's BasicBlock with `downsample`), after a stem conv."""

    def __init__(self):
        super().__init__()
        self.inp, self.stem, self.relu0 = QInput(), QConv2d(2, 4, 3, padding=1), QReLU()
        self.conv1, self.bn1, self.relu1 = QConv2d(4, 8, 3, stride=2, padding=1, bias=False), QBatchNorm2d(8), QReLU()
        self.conv2, self.bn2 = QConv2d(8, 8, 3, padding=1, bias=False), QBatchNorm2d(8)
        self.down, self.bn_down = QConv2d(4, 8, 1, stride=2, bias=False), QBatchNorm2d(8)
        self.add, self.relu2 = QAdd(), QReLU()

    def forward(self, x):
        y = self.relu0(self.stem(self.inp(x)))
        main = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(y)))))
        return self.relu2(self.add(main, self.bn_down(self.down(y))))


class QThreeReaders(nn.Module):
    """y read by two convolutions and an Add: relu(conv_a(y) + conv_b(y)) + y."""

    def __init__(self):
        super().__init__()
        self.inp, self.stem, self.relu0 = QInput(), QConv2d(1, 3, 3, padding=1), QReLU()
        self.conv_a, self.conv_b = QConv2d(3, 3, 3, padding=1), QConv2d(3, 3, 1)
        self.add_ab, self.relu1, self.add_y = QAdd(), QReLU(), QAdd()

    def forward(self, x):
        y = self.relu0(self.stem(self.inp(x)))
        return self.add_y(self.relu1(self.add_ab(self.conv_a(y), self.conv_b(y))), y)


class QDoubled(nn.Module):
    """A stage reading one tensor at both inputs: relu(dense(x)) + the same."""

    def __init__(self):
        super().__init__()
        self.inp, self.fc, self.relu, self.add = QInput(), QLinear(8, 4), QReLU(), QAdd()

    def forward(self, x):
        y = self.relu(self.fc(self.inp(x)))
        return self.add(y, y)


def branch_zoo():
    """(name, QFX model, sample shape)."""
    torch.manual_seed(3)
    yield "downsample", with_statistics(QDownsampleBlock()), (2, 8, 8)
    yield "three_readers", QThreeReaders(), (1, 6, 6)
    yield "doubled", QDoubled(), (8,)
    yield "wide_padding", nn.Sequential(QInput(), QConv2d(1, 2, 1, padding=1), QReLU(),
                                        QConv2d(2, 2, 2, stride=2, padding=2)), (1, 5, 4)
    yield "flat_output", nn.Sequential(QInput(), QConv2d(2, 3, 3), QReLU(), QFlatten()), (2, 5, 4)
    yield "flat_rounding_dense", nn.Sequential(QInput(), QConv2d(1, 2, 3), QFlatten(),
                                               QLinear(18, 3, acc="ap_fixed<12,4,AP_RND,AP_SAT>")), (1, 5, 5)
