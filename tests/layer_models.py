"""Models for Conv1D and 1-D pools, depthwise, grouped and separable convolutions, and
Concat on the channel axis: float PyTorch models exported with torch.onnx and typed at
import (`--default-type`, or a config giving two joined branches different types), and
QFX models from `quantize_model` (Conv1d, groups=C, torch.cat)."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from float_models import export_torch
from fxhls.model_config import read_config
from fxhls.onnx import export_onnx
from fxhls.qfx import QFXConfig, calibrate, quantize_model

DEFAULT_TYPE = "ap_fixed<16,6>"
# The two branches of `join_types` in two types: the Concat joins them in ap_fixed<17,7>.
JOIN_TYPES_CONFIG = """\
default_type: ap_fixed<16,6>
layers:
  "*branch_b*":
    output: ap_fixed<14,7,AP_RND,AP_SAT>
"""


class Sequence1d(nn.Module):
    """Conv1d, MaxPool1d, a grouped (groups=2) Conv1d, AvgPool1d, a pointwise Conv1d,
    AdaptiveAvgPool1d(1) (a 1-D global average pool), and a classifier."""

    def __init__(self):
        super().__init__()
        self.conv1, self.pool1 = nn.Conv1d(2, 4, 3, padding=1), nn.MaxPool1d(2)
        self.conv2, self.pool2 = nn.Conv1d(4, 4, 3, padding=1, groups=2), nn.AvgPool1d(2)
        self.conv3, self.gap, self.fc = nn.Conv1d(4, 6, 1), nn.AdaptiveAvgPool1d(1), nn.Linear(6, 3)

    def forward(self, x):
        y = self.pool2(F.relu(self.conv2(self.pool1(F.relu(self.conv1(x))))))
        return self.fc(torch.flatten(self.gap(self.conv3(y)), 1))


class Separable(nn.Module):
    """A depthwise (groups=C) 3x3 convolution, then a pointwise 1x1 one (a separable
    convolution), twice, the second depthwise with a stride."""

    def __init__(self):
        super().__init__()
        self.dw1, self.pw1 = nn.Conv2d(3, 3, 3, padding=1, groups=3), nn.Conv2d(3, 6, 1)
        self.dw2, self.pw2 = nn.Conv2d(6, 6, 3, stride=2, padding=1, groups=6), nn.Conv2d(6, 4, 1)

    def forward(self, x):
        return self.pw2(F.relu(self.dw2(F.relu(self.pw1(F.relu(self.dw1(x)))))))


class Inception(nn.Module):
    """A stem, three branches (a 1x1 convolution; a depthwise then pointwise one; a
    grouped 3x3 one) joined by torch.cat on the channels, a 1x1 convolution."""

    def __init__(self, channels: int = 4):
        super().__init__()
        self.stem = nn.Conv2d(1, channels, 3, padding=1)
        self.branch_a = nn.Conv2d(channels, 2, 1)
        self.depthwise, self.pointwise = nn.Conv2d(channels, channels, 3, padding=1, groups=channels), \
            nn.Conv2d(channels, 3, 1)
        self.grouped = nn.Conv2d(channels, 4, 3, padding=1, groups=2)
        self.head = nn.Conv2d(9, 3, 1)

    def forward(self, x):
        y = F.relu(self.stem(x))
        joined = torch.cat([F.relu(self.branch_a(y)), F.relu(self.pointwise(F.relu(self.depthwise(y)))),
                            F.relu(self.grouped(y))], dim=1)
        return self.head(joined)


class JoinTypes(nn.Module):
    """Two branches joined on the channels (typed apart by `JOIN_TYPES_CONFIG`), and two
    dense heads joined as vectors."""

    def __init__(self):
        super().__init__()
        self.stem, self.branch_a, self.branch_b = nn.Conv2d(2, 3, 3, padding=1), nn.Conv2d(3, 2, 1), \
            nn.Conv2d(3, 3, 3, padding=1)
        self.fc_a, self.fc_b = nn.Linear(5 * 16, 4), nn.Linear(5 * 16, 3)

    def forward(self, x):
        y = F.relu(self.stem(x))
        flat = torch.flatten(torch.cat([self.branch_a(y), self.branch_b(y)], dim=1), 1)
        return torch.cat([self.fc_a(flat), F.relu(self.fc_b(flat))], dim=1)


class QfxSequence(nn.Module):
    """For quantize_model: a Conv1d stem, a depthwise (groups=C) then pointwise Conv1d
    beside a 1x1 one, torch.cat of the two, flattened into a classifier."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv1d(2, 4, 3, padding="same")
        self.depthwise, self.pointwise = nn.Conv1d(4, 4, 3, padding=1, groups=4), nn.Conv1d(4, 3, 1)
        self.side, self.fc = nn.Conv1d(4, 2, 1), nn.Linear(5 * 8, 3)

    def forward(self, x):
        y = F.relu(self.stem(x))
        joined = torch.cat([F.relu(self.pointwise(F.relu(self.depthwise(y)))), F.relu(self.side(y))], dim=1)
        return self.fc(torch.flatten(joined, 1))


def float_layer_models():
    """(name, float torch module, sample shape, config YAML or None for the default type)."""
    torch.manual_seed(0)
    yield "conv1d_pools", Sequence1d().eval(), (2, 16), None
    yield "separable", Separable().eval(), (3, 6, 6), None
    yield "inception", Inception().eval(), (1, 4, 4), None
    yield "join_types", JoinTypes().eval(), (2, 4, 4), JOIN_TYPES_CONFIG


def qfx_layer_models():
    """(name, calibrated QFX model from quantize_model, sample shape)."""
    torch.manual_seed(0)
    for name, float_model, shape in (("qfx_sequence", QfxSequence(), (2, 8)),
                                     ("qfx_inception", Inception(), (1, 4, 4))):
        q = quantize_model(float_model, QFXConfig(weight_bits=6, activation_bits=8))
        calibrate(q, torch.randn(64, *shape) * 2)
        yield name, q.eval(), shape


def exported_layer_models(folder: Path):
    """(name, ONNX path, load_onnx keyword arguments, sample shape, torch module or None):
    every model above, written into `folder`; the QFX ones with their module (its forward
    is the reference)."""
    for name, module, shape, config in float_layer_models():
        path = folder / f"{name}.onnx"
        export_torch(module, shape, path)
        if config is None:
            yield name, path, {"default_type": DEFAULT_TYPE}, shape, None
            continue
        (folder / f"{name}.yaml").write_text(config)
        yield name, path, {"config": read_config(folder / f"{name}.yaml")}, shape, None
    for name, module, shape in qfx_layer_models():
        path = folder / f"{name}.onnx"
        export_onnx(module, torch.randn(2, *shape), path)
        yield name, path, {}, shape, module
