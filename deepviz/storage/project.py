"""Read a deepviz project folder: its manifest, image table, feature sets, layout, grid, thumbnails.

Layout of a project folder (schema version 1)::

    manifest.json               what is here; written last by every build, so it names only finished files
    images.parquet              id, path, label, width, height — one row per image, row i has id i
    rejects.parquet             path, reason — files that looked like images but could not be used
    features/NAME.npy           (N, D) float16, rows L2-normalised, row i = image id i
    layout.npy                  (N, 2) float32 t-SNE coordinates
    grid.npy                    (N, 2) int32 [row, col] cell of each image, all cells distinct
    thumbs/SIZE.bin             JPEG thumbnails back to back; thumbs/SIZE.offsets.npy (N + 1,) int64
    colors.npy                  (N, 3) uint8 mean RGB of each image's centre crop (optional: projects
                                built before it existed get it computed from the thumbnails on read)

Every array is memory-mapped on read, so opening a million-image project costs nothing.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from deepviz.images.thumbs import ThumbnailStore

FORMAT = "deepviz-project"
SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
IMAGES = "images.parquet"
REJECTS = "rejects.parquet"
LAYOUT = "layout.npy"
GRID = "grid.npy"
COLORS = "colors.npy"
FEATURES_DIR = "features"
THUMBS_DIR = "thumbs"
WORK_DIR = ".work"


def feature_file(name: str) -> str:
    """Relative path of a feature set's array; registry names like 'timm:vit/x' become safe file names."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "features"
    return f"{FEATURES_DIR}/{safe}.npy"


class ProjectError(ValueError):
    """The folder is not a (readable) deepviz project; the message says what to do."""


@dataclass(frozen=True)
class FeatureSetInfo:
    """One feature set as the manifest records it.

    ``extractor`` is the registry name that can embed new images the same way, or None
    when the features were imported from a file and no model is known.
    """

    name: str
    dim: int
    dtype: str
    extractor: str | None
    source: str | None


def read_manifest(root: str | Path) -> dict[str, Any]:
    """The manifest of the project at ``root``, checked for format and schema version."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise ProjectError(
            f"{root} is not a deepviz project (no {MANIFEST}); create one with `deepviz build IMAGES -o {root}`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ProjectError(f"{path} is not valid JSON ({err}); rebuild the project with `deepviz build`") from None
    if manifest.get("format") != FORMAT:
        raise ProjectError(f"{path} is not a deepviz manifest (format={manifest.get('format')!r})")
    version = manifest.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ProjectError(
            f"{root} has schema version {version}, this deepviz reads up to {SCHEMA_VERSION}; "
            "upgrade deepviz (`pip install -U deepviz`)"
        )
    return manifest


class Project:
    """A built project, read-only and memory-mapped. Open one with :func:`open_project`.

    ``n``            number of images (ids are 0..n-1 and index every array's rows)
    ``images``       pandas DataFrame: id, path, label, width, height
    ``rejects``      pandas DataFrame: path, reason
    ``features()``   (N, D) float16 memory map, rows L2-normalised
    ``layout``       (N, 2) float32 t-SNE coordinates
    ``grid``         (N, 2) int32 [row, col]; ``grid_shape`` is (rows, cols)
    ``thumbnail()``  JPEG bytes of one image at one size
    ``colors``       (N, 3) uint8 mean RGB of each image's centre crop
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest = read_manifest(self.root)
        self.n: int = int(self.manifest["n_images"])

    def __repr__(self) -> str:
        return f"<deepviz.Project {str(self.root)!r}: {self.n} images, features {self.feature_sets}>"

    @cached_property
    def images(self) -> Any:
        import pyarrow.parquet as pq

        table = pq.read_table(self.root / IMAGES).to_pandas()
        # A build interrupted after writing the table but before the manifest leaves extra rows.
        return table.iloc[: self.n].reset_index(drop=True)

    @cached_property
    def rejects(self) -> Any:
        import pyarrow.parquet as pq

        return pq.read_table(self.root / REJECTS).to_pandas()

    @property
    def feature_sets(self) -> list[str]:
        return list(self.manifest["feature_sets"])

    @property
    def default_feature_set(self) -> str:
        return str(self.manifest["default_feature_set"])

    def feature_info(self, name: str | None = None) -> FeatureSetInfo:
        name = name or self.default_feature_set
        try:
            entry = self.manifest["feature_sets"][name]
        except KeyError:
            raise KeyError(f"no feature set {name!r} in this project; it has {self.feature_sets}") from None
        return FeatureSetInfo(name, int(entry["dim"]), str(entry["dtype"]), entry.get("extractor"), entry.get("source"))

    def features(self, name: str | None = None) -> np.ndarray:
        """(N, D) float16 memory map of feature set ``name`` (default set if None), rows L2-normalised."""
        info = self.feature_info(name)
        array = np.load(self.root / self.manifest["feature_sets"][info.name]["file"], mmap_mode="r")
        return array[: self.n]

    @cached_property
    def layout(self) -> np.ndarray:
        return np.load(self.root / LAYOUT, mmap_mode="r")[: self.n]

    @cached_property
    def grid(self) -> np.ndarray:
        return np.load(self.root / GRID, mmap_mode="r")[: self.n]

    @property
    def grid_shape(self) -> tuple[int, int]:
        g = self.manifest["grid"]
        return int(g["rows"]), int(g["cols"])

    @cached_property
    def colors(self) -> np.ndarray:
        """(N, 3) uint8 mean RGB of each image's centre crop: the map's overview, one pixel per image.

        Read from colors.npy (memory-mapped); a project built before that file existed gets
        it from its smallest thumbnails instead, decoded once here (about a minute per
        million images) and kept in memory, not written: the project stays read-only.
        """
        path = self.root / COLORS
        if "colors" in self.manifest and path.is_file():
            stored = np.load(path, mmap_mode="r")
            if stored.shape[0] >= self.n and stored.shape[1:] == (3,):
                return stored[: self.n]
        from deepviz.images.thumbs import mean_colors

        return mean_colors(self.thumbnails, min(self.thumbnail_sizes), range(self.n))

    @property
    def thumbnail_sizes(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.manifest["thumbnails"]["sizes"])

    @cached_property
    def thumbnails(self) -> ThumbnailStore:
        return ThumbnailStore(self.root / THUMBS_DIR, self.thumbnail_sizes, self.n)

    def thumbnail(self, image_id: int, size: int | None = None) -> bytes:
        """JPEG bytes of image ``image_id`` at ``size`` px (the largest stored size if None)."""
        return self.thumbnails.get(image_id, size or max(self.thumbnail_sizes))

    def source_path(self, image_id: int) -> Path:
        """Where the original file of ``image_id`` was when the project was built."""
        return Path(self.manifest["source_root"]) / str(self.images.at[image_id, "path"])

    def summary(self) -> dict[str, Any]:
        """Everything `deepviz info` prints, as plain data (JSON-ready)."""
        labels = self.images["label"]
        sizes = {p.relative_to(self.root).as_posix(): p.stat().st_size for p in self.root.rglob("*") if p.is_file()}
        return {
            "project": str(self.root),
            "schema_version": self.manifest["schema_version"],
            "source_root": self.manifest["source_root"],
            "images": self.n,
            "labels": {str(k): int(v) for k, v in labels.value_counts(dropna=True).sort_index().items()},
            "unlabelled": int(labels.isna().sum()),
            "rejects": [{"path": p, "reason": r} for p, r in zip(self.rejects["path"], self.rejects["reason"])],
            "feature_sets": {
                name: {k: v for k, v in self.manifest["feature_sets"][name].items()} for name in self.feature_sets
            },
            "default_feature_set": self.default_feature_set,
            "layout": self.manifest["layout"],
            "grid": self.manifest["grid"],
            "thumbnails": self.manifest["thumbnails"],
            "bytes_on_disk": sum(sizes.values()),
            "files": sizes,
        }


def open_project(root: str | Path) -> Project:
    """Open the project folder ``root`` for reading (cheap: arrays are memory-mapped on use)."""
    return Project(root)
