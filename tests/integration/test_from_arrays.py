"""deepviz.from_arrays: a project from image arrays, image paths, or features alone, through the ordinary build."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import deepviz
from deepviz.arrays import placeholder_colors
from deepviz.errors import ProjectError, UsageError
from deepviz.filenames import unescape
from tests.conftest import ColourExtractor

COLOURS = np.array([(220, 30, 30), (30, 200, 40), (30, 40, 220)], np.uint8)


def _images(n: int = 12, size: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """(n, size, size, 3) uint8 noisy squares of three colours, and each one's colour index."""
    rng = np.random.default_rng(0)
    which = np.arange(n) % 3
    noise = rng.integers(-15, 15, (n, size, size, 3))
    return np.clip(COLOURS[which][:, None, None, :] + noise, 0, 255).astype(np.uint8), which


def _features(which: np.ndarray, dim: int = 8) -> np.ndarray:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, dim))
    return (centres[which] + 0.05 * rng.normal(size=(len(which), dim))).astype(np.float32)


def _thumb_mean(project: deepviz.Project, i: int, size: int = 32) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(project.thumbnail(i, size))).convert("RGB"), np.float32).mean(axis=(0, 1))


def test_image_array_features_and_labels_become_a_project(tmp_path: Path) -> None:
    images, which = _images()
    x = _features(which)
    labels = np.array(["red", "green", "blue"])[which]
    report = deepviz.from_arrays(images=images, features=x, labels=labels, out=tmp_path / "p", progress=False)
    p = deepviz.open_project(tmp_path / "p")
    assert report.n_images == p.n == 12 and p.feature_sets == ["features"]
    # Image i is id i, with its label; its features are row i, L2-normalised; its thumbnail is its pixels.
    assert p.images["label"].tolist() == labels.tolist()
    expected = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(p.features().astype(np.float32), expected, atol=2e-3)
    for i in (0, 1, 2, 11):
        np.testing.assert_allclose(_thumb_mean(p, i), images[i].reshape(-1, 3).mean(axis=0), atol=6)
    assert (p.images["width"] == 24).all()


def test_a_list_of_arrays_of_any_size_and_a_model_instead_of_features(tmp_path: Path) -> None:
    images, which = _images(6)
    mixed = [images[0], images[1][:, :, 0], Image.fromarray(images[2]).resize((40, 30)), images[3][:20, :, :],
             np.dstack([images[4], np.full((24, 24), 255, np.uint8)]), images[5][:, :, :1]]
    report = deepviz.from_arrays(images=mixed, out=tmp_path / "p", models=[ColourExtractor()], progress=False)
    p = deepviz.open_project(tmp_path / "p")
    assert report.n_images == 6 and p.feature_sets == ["colour"] and p.rejects.empty
    assert p.images[["width", "height"]].values.tolist() == [[24, 24], [24, 24], [40, 30], [24, 20], [24, 24], [24, 24]]
    assert p.images["label"].isna().all()


def test_paths_keep_their_names_and_rows(tmp_path: Path) -> None:
    images, which = _images(9)
    paths = []
    for i, image in enumerate(images[::-1]):  # names whose sorted order is not the row order
        odd = " new\nline" if i == 4 else ""  # a name the project stores escaped
        path = tmp_path / "src" / f"{'zyx'[i % 3]}{i}{odd}.{'png' if i % 2 else 'jpg'}"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(image).save(path, quality=95)
        paths.append(path)
    x = _features(which[::-1])
    deepviz.from_arrays(images=[str(q) for q in paths], features=x, labels=list(range(9)), out=tmp_path / "p", progress=False)
    p = deepviz.open_project(tmp_path / "p")
    assert [unescape(name).split("-", 1)[1] for name in p.images["path"]] == [q.name for q in paths]
    assert p.images["label"].tolist() == [str(i) for i in range(9)]
    np.testing.assert_allclose(p.features().astype(np.float32), x / np.linalg.norm(x, axis=1, keepdims=True), atol=2e-3)
    for i in (0, 4, 8):
        np.testing.assert_allclose(_thumb_mean(p, i), images[::-1][i].reshape(-1, 3).mean(axis=0), atol=8)
    assert p.source_path(3).resolve() == paths[3].resolve()


def test_features_only_draws_tiles_coloured_by_the_features(tmp_path: Path) -> None:
    _, which = _images(30)
    x = _features(which, dim=16)
    deepviz.from_arrays(features={"layer3": x, "layer4": x[:, ::-1] + 1}, labels=which, out=tmp_path / "p", progress=False)
    p = deepviz.open_project(tmp_path / "p")
    assert p.n == 30 and p.feature_sets == ["layer3", "layer4"] and p.default_feature_set == "layer3"
    assert p.images["label"].tolist() == [str(w) for w in which]
    # A tile's colour is its features' colour: same cluster, same colour; another cluster, far away.
    colours = placeholder_colors(x).astype(np.float32)
    means = np.array([_thumb_mean(p, i, 128) for i in range(30)])
    assert np.abs(means - colours).max() < 25  # the digits drawn on the tile move its mean a little
    same = np.linalg.norm(colours[0] - colours[3])
    other = min(np.linalg.norm(colours[0] - colours[1]), np.linalg.norm(colours[0] - colours[2]))
    assert same * 3 < other


def test_rerunning_an_interrupted_call_resumes_and_a_finished_project_is_not_overwritten(tmp_path: Path) -> None:
    images, which = _images(6)
    out = tmp_path / "p"
    (out / "arrays" / "images").mkdir(parents=True)
    (out / "arrays" / "images" / "stale.png").write_bytes(b"left by another call")
    deepviz.from_arrays(images=images, features=_features(which), out=out, progress=False)
    assert deepviz.open_project(out).n == 6  # the stale file is not an extra image
    with pytest.raises(ProjectError, match="already a deepviz project"):
        deepviz.from_arrays(images=images, features=_features(which), out=out, progress=False)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ProjectError, match="not empty"):
        deepviz.from_arrays(images=images, out=tmp_path / "mine", progress=False)
    assert sorted(q.name for q in (tmp_path / "mine").iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give images=..., features=..., or both"),
        ({"images": np.zeros((4, 8, 8, 3), np.uint8), "features": np.ones((5, 3))}, r"different lengths \(images: 4, features: 5\)"),
        ({"features": np.ones((4, 3)), "labels": [1, 2]}, r"different lengths \(features: 4, labels: 2\)"),
        ({"images": np.zeros((4, 8, 8, 3), np.float32)}, "dtype float32; give uint8"),
        ({"images": np.zeros((4, 3, 8, 8), np.uint8)}, r"shape \(4, 3, 8, 8\).*transpose\(0, 2, 3, 1\)"),
        ({"images": [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.int64)]}, "image 1 has dtype int64"),
        ({"images": [np.zeros((8, 8, 2), np.uint8)]}, r"image 0 has shape \(8, 8, 2\)"),
        ({"images": ["/no/such/file.png"]}, "image 0: /no/such/file.png is not a file"),
        ({"features": np.ones((4, 3, 2))}, r"shape \(4, 3, 2\).*reshape"),
        ({"features": np.array([[1.0, 2.0], [np.nan, 1.0], [1.0, np.inf]])}, r"NaN or infinite values in 2 row\(s\) \(first rows: 1, 2\)"),
        ({"features": np.array([[1.0, 2.0], [0.0, 0.0]])}, r"1 all-zero row\(s\) \(first rows: 1\)"),
        ({"features": np.array([["a"], ["b"]])}, "dtype <U1; give numbers"),
        ({"features": {"a": np.ones((3, 2)), "b": np.ones((4, 2))}}, "different numbers of rows"),
        ({"features": np.ones((3, 2)), "models": ["mobilenet_v2"]}, "models need images"),
        ({"images": "folder/"}, "for a folder use deepviz.build"),
    ],
)
def test_bad_input_says_what_to_give_and_writes_nothing(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        deepviz.from_arrays(out=tmp_path / "p", progress=False, **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "p" / "manifest.json").exists()


def test_a_non_image_path_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not pixels")
    with pytest.raises(UsageError, match="notes.png is not an image"):
        deepviz.from_arrays(images=[text], out=tmp_path / "p", progress=False)
