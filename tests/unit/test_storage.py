"""Project format: packed thumbnails, atomic writes, manifest checks."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepviz.atomic import atomic_path, save_npy
from deepviz.errors import ProjectError
from deepviz.images.thumbs import encode_thumbnails
from deepviz.settings import ProjectSettings
from deepviz.storage.manifest import FeatureSet, GridInfo, LayoutInfo, Manifest, ProjectFiles, ThumbnailInfo
from deepviz.storage.project import feature_file
from deepviz.storage.thumbs import ThumbnailStore, bin_path, offsets_path, pack


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


def _manifest(n: int = 3) -> Manifest:
    return Manifest(
        generation=1, deepviz_version="0", created="then", updated="now", source_root="/images", n_images=n,
        files=ProjectFiles(images="images-0.parquet", rejects="rejects-0.parquet", layout="layout-0.npy", grid="grid-0.npy"),
        settings=ProjectSettings(aspect=2.0, label_depth=1),
        feature_sets={"colour": FeatureSet(dim=12, file=feature_file("colour"), extractor="colour")},
        default_feature_set="colour",
        layout=LayoutInfo(feature_set="colour", seed=0),
        grid=GridInfo(rows=2, cols=2, method="optimal", displacement=0.5, neighbourhood_preservation_k10=1.0),
        thumbnails=ThumbnailInfo(sizes=(32, 64), quality=88, decode_size=64),
    )


def _write_raw(root: Path, obj: object) -> None:
    (root / "manifest.json").write_text(json.dumps(obj), encoding="utf-8")


def test_manifest_round_trips_and_is_typed(tmp_path: Path) -> None:
    _manifest().write(tmp_path)
    read = Manifest.read(tmp_path)
    assert read == _manifest()
    assert read.settings.aspect == 2.0 and read.thumbnails.sizes == (32, 64)
    assert read.feature_set().dim == 12
    with pytest.raises(KeyError, match="no feature set 'nope'.*colour"):
        read.feature_set("nope")


def test_manifest_version_and_format_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="deepviz build"):
        Manifest.read(tmp_path)
    _write_raw(tmp_path, {"format": "deepviz-project", "schema_version": 99})
    with pytest.raises(ProjectError, match="upgrade"):
        Manifest.read(tmp_path)
    _write_raw(tmp_path, {"format": "other"})
    with pytest.raises(ProjectError, match="not a deepviz manifest"):
        Manifest.read(tmp_path)
    _write_raw(tmp_path, [1, 2])
    with pytest.raises(ProjectError, match="not a deepviz manifest"):
        Manifest.read(tmp_path)
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(ProjectError, match="not valid JSON"):
        Manifest.read(tmp_path)


def test_a_schema_1_project_is_refused_with_what_to_do(tmp_path: Path) -> None:
    _write_raw(tmp_path, {"format": "deepviz-project", "schema_version": 1, "n_images": 0, "source_root": "/photos"})
    with pytest.raises(ProjectError, match=r"earlier development version.*deepviz build /photos -o NEW_FOLDER"):
        Manifest.read(tmp_path)


def test_a_damaged_manifest_names_the_bad_field(tmp_path: Path) -> None:
    raw = json.loads(_manifest().model_dump_json())
    raw["grid"]["rows"] = "many"
    _write_raw(tmp_path, raw)
    with pytest.raises(ProjectError, match=r"damaged \(grid\.rows"):
        Manifest.read(tmp_path)
    del raw["grid"]
    _write_raw(tmp_path, raw)
    with pytest.raises(ProjectError, match=r"damaged \(grid"):
        Manifest.read(tmp_path)


def test_feature_file_names_are_safe() -> None:
    assert feature_file("mobilenet_v2") == "features/mobilenet_v2.npy"
    assert feature_file("open_clip:ViT-B-32/laion") == "features/open_clip_ViT-B-32_laion.npy"


def test_written_files_get_the_users_umask_not_owner_only(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    os.umask(mask)
    save_npy(tmp_path / "a.npy", np.arange(3))
    assert (tmp_path / "a.npy").stat().st_mode & 0o777 == 0o666 & ~mask
