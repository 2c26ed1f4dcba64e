"""Project format: packed thumbnails, atomic writes, manifest checks."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepviz.images.thumbs import ThumbnailStore, bin_path, encode_thumbnails, offsets_path, pack
from deepviz.storage.atomic import atomic_path, save_json, save_npy
from deepviz.storage.project import ProjectError, feature_file, read_manifest


def test_pack_and_store_round_trip(tmp_path: Path) -> None:
    crops = [np.full((64, 64, 3), v, np.uint8) for v in (10, 120, 250)]
    blobs = [encode_thumbnails(c, (16, 64)) for c in crops]
    for size_index, size in enumerate((16, 64)):
        data, offsets = pack([b[size_index] for b in blobs])
        bin_path(tmp_path, size).write_bytes(data.tobytes())
        np.save(offsets_path(tmp_path, size), offsets)
    store = ThumbnailStore(tmp_path, (16, 64), n=3)
    for i, v in enumerate((10, 120, 250)):
        img = Image.open(io.BytesIO(store.get(i, 16)))
        assert img.size == (16, 16) and abs(int(np.asarray(img).mean()) - v) <= 3
        assert Image.open(io.BytesIO(store.get(i, 64))).size == (64, 64)
    with pytest.raises(IndexError, match="out of range"):
        store.get(3, 16)
    with pytest.raises(KeyError, match="16, 64"):
        store.get(0, 32)
    assert store.nearest_size(20) == 64 and store.nearest_size(200) == 64 and store.nearest_size(16) == 16

    ids = np.array([2, 0, 0, 1])
    offsets, data = store.get_many(ids, 64)
    assert offsets[0] == 0 and offsets[-1] == len(data)
    assert [data[a:b] for a, b in zip(offsets[:-1], offsets[1:])] == [store.get(int(i), 64) for i in ids]
    assert store.get_many(np.array([], np.int64), 16)[1] == b""
    with pytest.raises(IndexError, match="image id 3 is out of range"):
        store.get_many(np.array([0, 3]), 16)


def test_atomic_write_leaves_old_file_when_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "a.npy"
    save_npy(target, np.arange(3))
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    np.testing.assert_array_equal(np.load(target), np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["a.npy"]


def test_manifest_version_and_format_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="deepviz build"):
        read_manifest(tmp_path)
    save_json(tmp_path / "manifest.json", {"format": "deepviz-project", "schema_version": 99})
    with pytest.raises(ProjectError, match="upgrade"):
        read_manifest(tmp_path)
    save_json(tmp_path / "manifest.json", {"format": "other"})
    with pytest.raises(ProjectError, match="not a deepviz manifest"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(ProjectError, match="not valid JSON"):
        read_manifest(tmp_path)
    save_json(tmp_path / "manifest.json", {"format": "deepviz-project", "schema_version": 1, "n_images": 0})
    assert json.loads((tmp_path / "manifest.json").read_text())["schema_version"] == 1
    assert read_manifest(tmp_path)["n_images"] == 0


def test_feature_file_names_are_safe() -> None:
    assert feature_file("mobilenet_v2") == "features/mobilenet_v2.npy"
    assert feature_file("open_clip:ViT-B-32/laion") == "features/open_clip_ViT-B-32_laion.npy"
