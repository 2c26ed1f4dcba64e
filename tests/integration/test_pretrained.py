"""The bundled pretrained extractors: right ImageNet classes, backends agree, ONNX cache reused.

Images come from scikit-image (Chelsea the cat, a coffee cup); models from the installed weights
packages. The ONNX cache lives in a per-session temporary folder, never in ~/.cache.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
skdata = pytest.importorskip("skimage.data")
from PIL import Image  # noqa: E402

from deepviz.features import mobilenet, runtime  # noqa: E402
from deepviz.features.base import Extractor  # noqa: E402
from deepviz.features.registry import get_extractor  # noqa: E402

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
def pair(request: pytest.FixtureRequest, model_cache: Path) -> tuple[Extractor, Extractor]:
    """The (onnx, torch) extractors of one model; building the first one exports the ONNX file."""
    name: str = request.param
    return get_extractor(name), get_extractor(name, backend="torch")


@pytest.mark.slow
@pytest.mark.parametrize("backend", [0, 1], ids=["onnx", "torch"])
def test_predicts_cat_and_cup(pair: tuple[Extractor, Extractor], photos: np.ndarray, backend: int) -> None:
    classes = pair[backend].logits(photos).argmax(axis=1)  # type: ignore[attr-defined]
    assert classes[0] in CAT_CLASSES
    assert classes[1] in CUP_CLASSES


@pytest.mark.slow
def test_embed_contract(pair: tuple[Extractor, Extractor], photos: np.ndarray) -> None:
    for extractor in pair:
        assert isinstance(extractor, Extractor)
        assert (extractor.dim, extractor.input_size) == (1280, 224)
        features = extractor.embed(photos)
        assert features.shape == (2, 1280) and features.dtype == np.float32
        assert np.isfinite(features).all()
        # Pooled after ReLU6: non-negative, bounded, and not already unit length.
        assert features.min() >= 0 and features.max() <= 6
        assert not np.allclose(np.linalg.norm(features, axis=1), 1)
    one = pair[0].embed(photos[1:])
    np.testing.assert_allclose(one[0], pair[0].embed(photos)[1], rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_onnx_and_torch_agree(pair: tuple[Extractor, Extractor], photos: np.ndarray) -> None:
    onnx, torch_ = (e.embed(photos) for e in pair)
    assert np.abs(onnx - torch_).max() < 1e-3
    cosine = (onnx * torch_).sum(1) / np.linalg.norm(onnx, axis=1) / np.linalg.norm(torch_, axis=1)
    assert (cosine > 0.9999).all()


@pytest.mark.slow
def test_cache_is_reused_without_re_export(
    pair: tuple[Extractor, Extractor], monkeypatch: pytest.MonkeyPatch
) -> None:
    path: Path = pair[0].onnx_path  # type: ignore[attr-defined]
    assert path.parent == Path(runtime.cache_dir())
    before = path.stat().st_mtime_ns

    def no_export(*args: object, **kwargs: object) -> Path:
        raise AssertionError("the cached ONNX file should have been reused")

    monkeypatch.setattr(runtime, "export_onnx", no_export)
    again = get_extractor(pair[0].name)
    assert again.onnx_path == path  # type: ignore[attr-defined]
    assert path.stat().st_mtime_ns == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_onnx_backend_runs_without_torch_once_cached(
    pair: tuple[Extractor, Extractor], photos: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = pair[0].embed(photos)
    monkeypatch.setitem(sys.modules, "torch", None)  # "import torch" now fails
    extractor = get_extractor(pair[0].name)
    np.testing.assert_array_equal(extractor.embed(photos), expected)


@pytest.mark.slow
def test_dynamo_exporter_gives_the_same_model(model_cache: Path, photos: np.ndarray, tmp_path: Path) -> None:
    """The fallback for when torch drops the TorchScript exporter."""
    path = runtime.export_onnx(mobilenet.build_net(), 224, tmp_path / "dynamo.onnx", exporter="dynamo")
    runner = runtime.OnnxRunner(path)
    x = runtime.to_nchw(photos, 224, runtime.IMAGENET_MEAN, runtime.IMAGENET_STD)
    features, logits = runner.run(x, runtime.ONNX_OUTPUTS)
    expected = get_extractor("mobilenet_v2", backend="torch")
    np.testing.assert_allclose(features, expected.embed(photos), atol=1e-3)
    assert logits.shape == (2, 1000)


@pytest.mark.slow
def test_wrong_crop_shape_is_refused(pair: tuple[Extractor, Extractor], photos: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"\(B, 224, 224, 3\)"):
        pair[0].embed(photos[:, :200])
    with pytest.raises(ValueError, match="uint8"):
        pair[0].embed(photos.astype(np.float32))
