"""Feature extractors by name: the one place that maps a string in a manifest or CLI flag to a model.

Importing this module is instant: every factory imports its model module (and torch or
onnxruntime) only when called.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import partial
from typing import Any

from deepviz.errors import UnknownName, UsageError, pip_command
from deepviz.features.base import Extractor
from deepviz.settings import DEFAULT_MODEL

__all__ = [
    "available_extractors", "extractor_recipe", "get_extractor", "may_embed_text", "missing_packages", "register_extractor",
    "unregister_extractor",
]

def _mobilenet_v2(**options: Any) -> Extractor:
    from deepviz.features.mobilenet import MobileNetV2

    return MobileNetV2(**options)


def _efficientnet_lite0(**options: Any) -> Extractor:
    from deepviz.features.efficientnet import EfficientNetLite0

    return EfficientNetLite0(**options)


_FACTORIES: dict[str, Callable[..., Extractor]] = {
    "mobilenet_v2": _mobilenet_v2,
    "efficientnet_lite0": _efficientnet_lite0,
}
_BUNDLED = frozenset(_FACTORIES)

# Names with a prefix select a model from an online hub; the part after the colon is passed on.
_HUB_PREFIXES = ("torchvision", "timm", "open_clip", "hf")
_HUB_EXAMPLES = (
    "torchvision:vgg16", "torchvision:resnet50", "timm:resnet18", "open_clip:ViT-B-32/laion2b_s34b_b79k",
    "hf:facebook/dinov2-small", "hf:openai/clip-vit-base-patch32", "hf:google/siglip-base-patch16-224",
)


def register_extractor(name: str, factory: Callable[..., Extractor]) -> None:
    """Make ``get_extractor(name, **options)`` return ``factory(**options)``: for plugins, and the
    fake extractor the tests register instead of patching the registry."""
    if name in _FACTORIES or name.partition(":")[0] in _HUB_PREFIXES:
        raise UsageError(f"the extractor name {name!r} is taken; choose another")
    _FACTORIES[name] = factory


def unregister_extractor(name: str) -> None:
    """Forget an extractor added with ``register_extractor`` (the bundled ones stay)."""
    if name in _BUNDLED:
        raise UsageError(f"{name!r} is a bundled extractor and cannot be unregistered")
    _FACTORIES.pop(name, None)


# What each hub prefix imports (module name, PyPI name); the bundled models need only onnx and onnxruntime.
_HUB_PACKAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "torchvision": (("torch", "torch"), ("torchvision", "torchvision")),
    "timm": (("torch", "torch"), ("timm", "timm")),
    "open_clip": (("torch", "torch"), ("open_clip", "open_clip_torch")),
    "hf": (("torch", "torch"), ("transformers", "transformers")),
}


def missing_packages(name: str) -> list[str]:
    """The ``pip install`` commands an extractor name still needs here (empty when it can run)."""
    needed = _HUB_PACKAGES.get(name.partition(":")[0], ())
    return [pip_command(package) for module, package in needed if importlib.util.find_spec(module) is None]


def may_embed_text(name: str) -> bool:
    """Whether the extractor ``name`` can have a text tower (so it is worth loading to ask); registered
    extractors are asked too, as a plugin may have one."""
    prefix = name.partition(":")[0]
    return prefix == "hf" or (name in _FACTORIES and name not in _BUNDLED)


def available_extractors() -> list[str]:
    """Names accepted by ``get_extractor``: the bundled models, then one example per hub prefix."""
    return [*_FACTORIES, *_HUB_EXAMPLES]


def extractor_recipe(name: str, **options: Any) -> Callable[[], Extractor]:
    """A call that builds extractor ``name`` with ``options`` in another process (a Ray actor).

    It carries the factory itself, not only the name, so an extractor registered in this process
    (a plugin, a test's fake) is built there too. Hub names are resolved where the call runs.
    """
    factory = _FACTORIES.get(name)
    if factory is not None:
        return partial(factory, **options)
    return partial(get_extractor, name, **options)


def get_extractor(name: str = DEFAULT_MODEL, **options: Any) -> Extractor:
    """Build the extractor registered as ``name`` with model-specific ``options``.

    ``mobilenet_v2`` / ``efficientnet_lite0`` take ``backend`` ("onnx" or "torch"),
    ``intra_op_num_threads``, ``cache``, ``device`` and ``weights`` (a checkpoint file instead of
    the pinned one, which is fetched once when absent); hub names (``torchvision:NAME``, ``timm:NAME``,
    ``open_clip:ARCH/PRETRAINED``) take ``layer`` (torchvision only) and ``weights`` (a local
    state-dict path instead of a download); ``hf:MODEL[#layer=K,pool=cls|mean|pooler|embed]`` (a
    Hub id or a ``save_pretrained`` folder) takes ``layer``, ``pool`` and ``revision``.

    Raises ValueError for an unknown name, MissingDependency (an ImportError) when an optional
    package is absent.
    """
    factory = _FACTORIES.get(name)
    if factory is not None:
        return factory(**options)
    prefix, sep, model = name.partition(":")
    if sep and prefix == "hf" and model:
        from deepviz.features.hf import hf_extractor

        return hf_extractor(model, **options)
    if sep and prefix in _HUB_PREFIXES and model:
        from deepviz.features.hub import hub_extractor

        return hub_extractor(prefix, model, **options)
    raise UnknownName(
        f"unknown feature extractor {name!r}; valid names: {', '.join(_FACTORIES)}, "
        f"or {', '.join(p + ':NAME' for p in _HUB_PREFIXES)} (e.g. {', '.join(_HUB_EXAMPLES)})"
    )
