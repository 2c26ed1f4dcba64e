"""deepviz: see what deep image features consider similar.

One-liner::

    import deepviz
    report = deepviz.build("photos/", "photos.deepviz")
    report = deepviz.from_arrays(images=uint8_array_or_paths, features=X, labels=y, out="run.deepviz")
    project = deepviz.open_project("photos.deepviz")

Composable steps on arrays and paths: ``scan``, ``decode_crop``, ``get_extractor``,
``l2_normalize``, ``tsne_layout``, ``gridify`` (+ ``grid_shape``, ``displacement``,
``neighbourhood_preservation``), ``load_features``.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from deepviz._version import __version__

# name -> module that defines it; imported on first use so `import deepviz` stays instant.
_EXPORTS = {
    "build": "deepviz.pipeline.build",
    "from_arrays": "deepviz.arrays",
    "show": "deepviz.notebook",
    "BuildReport": "deepviz.pipeline.build",
    "open_project": "deepviz.storage.project",
    "Project": "deepviz.storage.project",
    "ProjectError": "deepviz.errors",
    "DeepvizError": "deepviz.errors",
    "BuildSettings": "deepviz.settings",
    "ServeSettings": "deepviz.settings",
    "scan": "deepviz.images.scan",
    "decode_crop": "deepviz.images.decode",
    "ImageRejected": "deepviz.images.decode",
    "l2_normalize": "deepviz.core.normalize",
    "tsne_layout": "deepviz.core.tsne",
    "gridify": "deepviz.core.grid",
    "grid_shape": "deepviz.core.grid",
    "displacement": "deepviz.core.grid",
    "neighbourhood_preservation": "deepviz.core.grid",
    "get_extractor": "deepviz.features.registry",
    "available_extractors": "deepviz.features.registry",
    "load_features": "deepviz.features.importers",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'deepviz' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from deepviz.arrays import from_arrays
    from deepviz.core.grid import displacement, grid_shape, gridify, neighbourhood_preservation
    from deepviz.core.normalize import l2_normalize
    from deepviz.core.tsne import tsne_layout
    from deepviz.errors import DeepvizError, ProjectError
    from deepviz.features.importers import load_features
    from deepviz.features.registry import available_extractors, get_extractor
    from deepviz.images.decode import ImageRejected, decode_crop
    from deepviz.images.scan import scan
    from deepviz.notebook import show
    from deepviz.pipeline.build import BuildReport, build
    from deepviz.settings import BuildSettings, ServeSettings
    from deepviz.storage.project import Project, open_project
