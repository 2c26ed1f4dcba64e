"""The public API is exactly the curated ``deepviz.__all__``; every name in it resolves."""
from __future__ import annotations

import deepviz

EXPECTED = {
    "BuildReport", "BuildSettings", "DeepvizError", "ImageRejected", "Project", "ProjectError", "ServeSettings",
    "__version__", "available_extractors", "build",
    "decode_crop", "displacement", "from_arrays", "get_extractor", "grid_shape", "gridify", "l2_normalize", "load_features",
    "neighbourhood_preservation", "open_project", "scan", "show", "tsne_layout",
}


def test_all_is_pinned() -> None:
    assert set(deepviz.__all__) == EXPECTED


def test_every_exported_name_resolves() -> None:
    for name in deepviz.__all__:
        assert getattr(deepviz, name) is not None


def test_private_names_are_not_exported() -> None:
    assert not [n for n in deepviz.__all__ if n.startswith("_") and n != "__version__"]
