"""The bundled networks in plain torch, for ``backend="torch"`` (GPUs) and as the reference the ONNX graphs are tested against.

Imports torch at the top: only ``build_net`` of ``mobilenet`` and ``efficientnet`` imports this
module, when a torch model is asked for. Module names match the checkpoints' keys, so
``load_state_dict(strict=True)`` loads them as published. The architectures (stage tables,
batch-norm epsilon) are passed in by those modules, which also build the ONNX graphs from them.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["EfficientNetLite0Net", "MobileNetV2Net"]


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    # Keys ``<i>.0.weight`` (conv) and ``<i>.1.*`` (batch norm) as in torchvision.
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """MobileNetV2's block: expand (1x1) -> depthwise 3x3 -> linear project (1x1), with a skip when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_conv_bn_relu(cin, hidden, 1))
        layers += [
            _conv_bn_relu(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)
        self.use_skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.conv(x)
        return x + out if self.use_skip else out


class MobileNetV2Net(nn.Module):
    """(B, 3, 224, 224) standardised RGB -> ((B, 1280) pooled features, (B, 1000) ImageNet logits).

    ``stages``: (expansion, output channels, repeats, first stride) per bottleneck stage.
    """

    def __init__(self, stages: Sequence[tuple[int, int, int, int]]) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv_bn_relu(3, 32, 3, 2)]
        cin = 32
        for expand, cout, repeats, stride in stages:
            for i in range(repeats):
                layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
                cin = cout
        layers.append(_conv_bn_relu(cin, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.features(x).mean(dim=(2, 3))
        return pooled, self.classifier(pooled)


class SameConv2d(nn.Conv2d):
    """Conv with TF's "SAME" padding: for stride 2 the extra pixel goes bottom/right.

    The TF-trained weights see their stride-2 windows there; torch's symmetric padding shifts
    every window by one pixel. The padding is fixed at construction, valid while every
    feature map's side is divisible by its conv's stride, as it is for 224 inputs
    (224, 112, 56, 28, 14, 7).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pads: list[int] = []
        for k, s in zip(self.kernel_size[::-1], self.stride[::-1], strict=True):  # F.pad wants (W, H) order
            total = max(k - s, 0)
            pads += [total // 2, total - total // 2]
        self.same_pad = tuple(pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, self.same_pad), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _same_conv(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return SameConv2d(cin, cout, kernel, stride, groups=groups, bias=False)


class MBConv(nn.Module):
    """EfficientNet-Lite's block: expand (1x1) -> depthwise kxk -> linear project (1x1), with a skip when shapes allow."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int, eps: float) -> None:
        super().__init__()
        hidden = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = _same_conv(cin, hidden, 1)
            self._bn0 = nn.BatchNorm2d(hidden, eps=eps)
        self._depthwise_conv = _same_conv(hidden, hidden, kernel, stride, groups=hidden)
        self._bn1 = nn.BatchNorm2d(hidden, eps=eps)
        self._project_conv = _same_conv(hidden, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, eps=eps)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h: torch.Tensor = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return x + h if self.skip else h


class EfficientNetLite0Net(nn.Module):
    """(B, 3, 224, 224) RGB in [-1, 1] -> ((B, 1280) pooled features, (B, 1000) ImageNet logits).

    ``stages``: (kernel, first stride, expansion, output channels, repeats) per stage; ``eps``
    the batch-norm epsilon the checkpoint's running variances assume.
    """

    def __init__(self, stages: Sequence[tuple[int, int, int, int, int]], eps: float) -> None:
        super().__init__()
        self._conv_stem = _same_conv(3, 32, 3, 2)
        self._bn0 = nn.BatchNorm2d(32, eps=eps)
        blocks: list[nn.Module] = []
        cin = 32
        for kernel, stride, expand, cout, repeats in stages:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if i == 0 else 1, expand, eps))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _same_conv(cin, 1280, 1)
        self._bn1 = nn.BatchNorm2d(1280, eps=eps)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        pooled = F.relu6(self._bn1(self._conv_head(x))).mean(dim=(2, 3))
        return pooled, self._fc(pooled)
