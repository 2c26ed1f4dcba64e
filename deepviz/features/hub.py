"""Feature extractors from online model hubs (torchvision, timm, open_clip), for users with internet.

Registry names: ``torchvision:NAME[/LAYER]`` (e.g. ``torchvision:vgg16`` = fc7, the 4096-d
feature of the "deep features" papers; ``torchvision:resnet50`` = 2048-d pooled),
``timm:NAME`` (classifier removed, pooled features), ``open_clip:ARCH/PRETRAINED`` (image tower
embedding). ``weights=PATH`` loads a local state dict instead of downloading.
"""
from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from deepviz.errors import MissingDependency, UsageError, pip_command
from deepviz.features.runtime import IMAGENET_MEAN, IMAGENET_STD, TorchRunner, check_crops, require

if TYPE_CHECKING:
    import torch

__all__ = ["HubExtractor", "VGG_LAYERS", "hub_extractor"]

# torchvision's VGG/AlexNet ``classifier`` is Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear:
# the paper's fc6 / fc7 features are the outputs of the two ReLUs.
VGG_LAYERS = {"fc6": "classifier.1", "fc7": "classifier.4"}

# open_clip's fallback when a model carries no preprocessing config: the OpenAI CLIP statistics.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def _import(module: str, pip_package: str) -> ModuleType:
    """Import an optional hub package, or raise MissingDependency with its pip command."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingDependency(pip_command(pip_package)) from error


def _load_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    import torch

    state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    # Training checkpoints often wrap the weights; accept the two common spellings.
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            inner: dict[str, Any] = state[key]
            return inner
    return state


class HubExtractor:
    """A torch model plus a function picking its feature: (B, S, S, 3) uint8 RGB -> (B, D) float32."""

    def __init__(
        self,
        name: str,
        net: torch.nn.Module,
        features: Callable[[torch.Tensor], torch.Tensor],
        input_size: int,
        mean: Sequence[float] | np.ndarray,
        std: Sequence[float] | np.ndarray,
        intra_op_num_threads: int | None = None,
        device: str = "cpu",
    ) -> None:
        self.name = name
        self.input_size = input_size
        self._runner = TorchRunner(net, intra_op_num_threads, device, call=lambda x: _pool(features(x)))
        self._mean = np.asarray(mean, dtype=np.float32)
        self._std = np.asarray(std, dtype=np.float32)
        # One dummy image tells D for any layer, without a per-architecture table.
        self.dim = int(self.embed(np.zeros((1, input_size, input_size, 3), np.uint8)).shape[1])

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(B, S, S, 3) uint8 RGB -> (B, D) float32, spatial maps globally average-pooled."""
        check_crops(crops, self.input_size)
        (features,) = self._runner.run_images(crops, self._mean, self._std)
        return features


def _pool(out: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C) by global average; (B, D) unchanged; anything else is an error."""
    if out.ndim == 4:
        return out.mean(dim=(2, 3))
    if out.ndim == 2:
        return out
    raise UsageError(f"layer output has shape {tuple(out.shape)}; pick a layer giving (B, C, H, W) or (B, D)")


def _layer_output(net: torch.nn.Module, layer: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function running ``net`` and returning what module ``layer`` (dotted name) produced."""
    modules = dict(net.named_modules())
    if layer not in modules:
        names = [n for n in modules if n]
        raise UsageError(f"model has no layer {layer!r}; valid: {', '.join([*VGG_LAYERS, *names])}")
    captured: list[torch.Tensor] = []
    modules[layer].register_forward_hook(lambda _module, _inputs, output: captured.append(output))

    def features(x: torch.Tensor) -> torch.Tensor:
        captured.clear()
        net(x)
        return captured[-1]

    return features


def _default_layer(model: str, net: torch.nn.Module) -> str:
    if model.startswith(("vgg", "alexnet")):
        return "fc7"
    if "avgpool" in dict(net.named_modules()):
        return "avgpool"
    raise UsageError(f"no default feature layer for torchvision model {model!r}; pass layer=NAME")


def torchvision_extractor(
    model: str,
    layer: str | None = None,
    weights: str | os.PathLike[str] | None = None,
    input_size: int = 224,
    intra_op_num_threads: int | None = None,
    device: str = "cpu",
) -> HubExtractor:
    """torchvision ``model`` with ImageNet weights (or ``weights``), features taken at ``layer``.

    ``layer``: "fc6"/"fc7" for VGG/AlexNet, or any dotted module name; default fc7 for VGG,
    ``avgpool`` (the pooled feature before the classifier) otherwise.
    """
    require("torch", pip_command("torch"))
    models = _import("torchvision.models", "torchvision")
    factory = getattr(models, model, None)
    if not callable(factory):
        raise UsageError(f"torchvision.models has no model {model!r}")
    if weights is None:
        net = factory(weights="DEFAULT")
    else:
        net = factory(weights=None)
        net.load_state_dict(_load_state(weights), strict=True)
    chosen = layer if layer is not None else _default_layer(model, net)
    name = f"torchvision:{model}" if layer is None else f"torchvision:{model}/{layer}"
    features = _layer_output(net, VGG_LAYERS.get(chosen, chosen))
    return HubExtractor(name, net, features, input_size, IMAGENET_MEAN, IMAGENET_STD, intra_op_num_threads, device)


def timm_extractor(
    model: str, weights: str | os.PathLike[str] | None = None, intra_op_num_threads: int | None = None,
    device: str = "cpu",
) -> HubExtractor:
    """timm ``model`` with its classifier removed (``num_classes=0``): pooled pre-logit features."""
    require("torch", pip_command("torch"))
    timm = _import("timm", "timm")
    if weights is None:
        net = timm.create_model(model, pretrained=True, num_classes=0)
    else:
        # timm's own way to read local weights: it still strips the classifier keys for us.
        net = timm.create_model(model, pretrained=True, num_classes=0, pretrained_cfg_overlay={"file": str(weights)})
    cfg = getattr(net, "pretrained_cfg", None) or {}
    size = int(cfg.get("input_size", (3, 224, 224))[-1])
    mean = cfg.get("mean", tuple(IMAGENET_MEAN))
    std = cfg.get("std", tuple(IMAGENET_STD))
    return HubExtractor(f"timm:{model}", net, net, size, mean, std, intra_op_num_threads, device)


def open_clip_extractor(
    model: str, weights: str | os.PathLike[str] | None = None, intra_op_num_threads: int | None = None,
    device: str = "cpu",
) -> HubExtractor:
    """open_clip ``ARCH/PRETRAINED``: the image tower's embedding (before L2 normalisation)."""
    arch, sep, pretrained = model.partition("/")
    if not sep or not arch or not pretrained:
        raise UsageError(f"open_clip model must be ARCH/PRETRAINED (e.g. ViT-B-32/laion2b_s34b_b79k), got {model!r}")
    require("torch", pip_command("torch"))
    open_clip = _import("open_clip", "open_clip_torch")
    # open_clip accepts a checkpoint path where it expects a pretrained tag.
    net = open_clip.create_model(arch, pretrained=str(weights) if weights is not None else pretrained)
    visual = net.visual
    size = getattr(visual, "image_size", 224)
    size = int(size[0] if isinstance(size, (tuple, list)) else size)
    mean = getattr(visual, "image_mean", None) or CLIP_MEAN
    std = getattr(visual, "image_std", None) or CLIP_STD
    return HubExtractor(f"open_clip:{model}", net, net.encode_image, size, mean, std, intra_op_num_threads, device)


_SOURCES: dict[str, Callable[..., HubExtractor]] = {
    "torchvision": torchvision_extractor,
    "timm": timm_extractor,
    "open_clip": open_clip_extractor,
}


def hub_extractor(source: str, model: str, **options: Any) -> HubExtractor:
    """Dispatch ``source:model`` (the registry name split at the colon) to its hub."""
    if source not in _SOURCES:
        raise UsageError(f"unknown hub {source!r}; valid: {', '.join(_SOURCES)}")
    if source == "torchvision" and "/" in model:
        # "torchvision:vgg16/fc6" carries the layer in the name, so the manifest can rebuild it.
        model, _, layer = model.partition("/")
        options.setdefault("layer", layer)
    return _SOURCES[source](model, **options)
