"""Read a deepviz project folder: its manifest, image table, feature sets, layout, grid, thumbnails.

Layout of a project folder (schema version 2)::

    manifest.json               what is here; written last by every build, so it names only finished files
    images-HASH.parquet         id, path, label, width, height — one row per image, row i has id i
    rejects-HASH.parquet        path, reason — files that looked like images but could not be used,
                                and folders or links the scan could not enter
    layout-HASH.npy             (N, 2) float32 t-SNE coordinates
    grid-HASH.npy               (N, 2) int32 [row, col] cell of each image, all cells distinct
    features/NAME.npy           (N, D) float16, rows L2-normalised, row i = image id i
    thumbs/SIZE.bin             JPEG thumbnails back to back; thumbs/SIZE.offsets.npy (N + 1,) int64
    colors.npy                  (N, 3) uint8 mean RGB of each image's centre crop
    tiles/pixels.npy            (N, 8, 8, 3) uint8 each image's smallest thumbnail box-downsampled
    tiles/grid-HASH/PX.bin      the stored grid's map tiles at PX pixels per cell, packed like thumbnails
                                (deepviz.storage.tiles)

A ``path`` is relative to the image folder, as text: a backslash, a byte that is not UTF-8
and a control character are escaped (``deepviz.filenames`` says exactly how; ``source_path``
gives the real file name back).

Files a build rewrites whole are named by their content (HASH) and listed in the manifest, so
they never change under a reader; the others only grow (their first N rows never change).
Every array is memory-mapped on read, so opening a million-image project costs nothing.
"""
from __future__ import annotations

import hashlib
import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deepviz.errors import ProjectError
from deepviz.filenames import unescape
from deepviz.storage.manifest import MANIFEST, SCHEMA_VERSION, FeatureSet, Manifest
from deepviz.storage.thumbs import ThumbnailStore
from deepviz.storage.tiles import TileStore

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MANIFEST", "SCHEMA_VERSION", "Project", "ProjectError", "feature_file", "open_project"]

COLORS = "colors.npy"
FEATURES_DIR = "features"
THUMBS_DIR = "thumbs"


def feature_file(name: str) -> str:
    """Relative path of a feature set's array; registry names like 'timm:vit/x' become safe file names."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "features"
    return f"{FEATURES_DIR}/{safe}.npy"


class Project:
    """A built project, read-only and memory-mapped. Open one with ``open_project``.

    - ``n``: number of images (ids are 0..n-1 and index every array's rows)
    - ``images``: pandas DataFrame: id, path, label, width, height
    - ``rejects``: pandas DataFrame: path, reason
    - ``features()``: (N, D) float16 memory map, rows L2-normalised
    - ``layout``: (N, 2) float32 t-SNE coordinates
    - ``grid``: (N, 2) int32 [row, col]; ``grid_shape`` is (rows, cols)
    - ``thumbnail()``: JPEG bytes of one image at one size
    - ``colors``: (N, 3) uint8 mean RGB of each image's centre crop
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest = Manifest.read(self.root)
        self.n: int = self.manifest.n_images

    def __repr__(self) -> str:
        return f"<deepviz.Project {str(self.root)!r}: {self.n} images, features {self.feature_sets}>"

    @cached_property
    def images(self) -> pd.DataFrame:
        import pyarrow.parquet as pq

        table: pd.DataFrame = pq.read_table(self.root / self.manifest.files.images).to_pandas()
        # A build interrupted after writing the table but before the manifest leaves extra rows.
        images: pd.DataFrame = table.iloc[: self.n].reset_index(drop=True)
        return images

    @cached_property
    def rejects(self) -> pd.DataFrame:
        import pyarrow.parquet as pq

        rejects: pd.DataFrame = pq.read_table(self.root / self.manifest.files.rejects).to_pandas()
        return rejects

    @property
    def feature_sets(self) -> list[str]:
        return list(self.manifest.feature_sets)

    @property
    def default_feature_set(self) -> str:
        return self.manifest.default_feature_set

    def feature_info(self, name: str | None = None) -> FeatureSet:
        """The manifest's record of feature set ``name`` (the default one if None)."""
        return self.manifest.feature_set(name)

    def features(self, name: str | None = None) -> np.ndarray:
        """(N, D) float16 memory map of feature set ``name`` (default set if None), rows L2-normalised."""
        array: np.ndarray = np.load(self.root / self.feature_info(name).file, mmap_mode="r")
        return array[: self.n]

    @cached_property
    def layout(self) -> np.ndarray:
        """(N, 2) float32 t-SNE coordinates."""
        return self._array(self.manifest.files.layout)

    @cached_property
    def grid(self) -> np.ndarray:
        """(N, 2) int32 [row, col] cell of each image."""
        return self._array(self.manifest.files.grid)

    @cached_property
    def colors(self) -> np.ndarray:
        """(N, 3) uint8 mean RGB of each image's centre crop: the map's overview, one pixel per image."""
        return self._array(COLORS)

    def _array(self, name: str) -> np.ndarray:
        array: np.ndarray = np.load(self.root / name, mmap_mode="r")
        return array[: self.n]

    @property
    def grid_shape(self) -> tuple[int, int]:
        return self.manifest.grid.rows, self.manifest.grid.cols

    @property
    def name(self) -> str:
        """The name the page shows: the folder's, without a ``.deepviz`` suffix."""
        return project_name(self.root)

    @cached_property
    def revision(self) -> str:
        """Changes when the project is rebuilt from scratch (ids and thumbnails of an image never
        change otherwise), so a browser may cache thumbnails keyed by it for good, and a session
        or a static site can tell which build it was made from."""
        key = f"{self.root.resolve()}|{self.manifest.created}"
        return hashlib.sha1(key.encode()).hexdigest()[:12]

    @property
    def thumbnail_sizes(self) -> tuple[int, ...]:
        return self.manifest.thumbnails.sizes

    @cached_property
    def thumbnails(self) -> ThumbnailStore:
        return ThumbnailStore(self.root / THUMBS_DIR, self.thumbnail_sizes, self.n)

    @cached_property
    def tiles(self) -> TileStore | None:
        """The map's tile pyramid of the stored grid; None for a project built before tiles existed."""
        info = self.manifest.tiles
        return TileStore(self.root, info, *self.grid_shape) if info else None

    def thumbnail(self, image_id: int, size: int | None = None) -> bytes:
        """JPEG bytes of image ``image_id`` at ``size`` px (the largest stored size if None)."""
        return self.thumbnails.get(image_id, size or max(self.thumbnail_sizes))

    def source_path(self, image_id: int) -> Path:
        """Where the original file of ``image_id`` was when the project was built.

        The stored path is text with some bytes escaped (``deepviz.filenames``); this is the
        real file name, ready to open.
        """
        return Path(unescape(self.manifest.source_root)) / unescape(str(self.images.at[image_id, "path"]))

    def summary(self) -> dict[str, Any]:
        """Everything `deepviz info` prints, as plain data (JSON-ready)."""
        labels = self.images["label"]
        sizes = {p.relative_to(self.root).as_posix(): p.stat().st_size for p in self.root.rglob("*") if p.is_file()}
        m = self.manifest.model_dump(mode="json")
        return {
            "project": str(self.root),
            "schema_version": m["schema_version"],
            "source_root": m["source_root"],
            "images": self.n,
            "labels": {str(k): int(v) for k, v in labels.value_counts(dropna=True).sort_index().items()},
            "unlabelled": int(labels.isna().sum()),
            "rejects": [{"path": p, "reason": r} for p, r in zip(self.rejects["path"], self.rejects["reason"])],
            "settings": m["settings"],
            "feature_sets": m["feature_sets"],
            "default_feature_set": m["default_feature_set"],
            "layout": m["layout"],
            "grid": m["grid"],
            "thumbnails": m["thumbnails"],
            "bytes_on_disk": sum(sizes.values()),
            "files": sizes,
        }


def project_name(root: Path) -> str:
    """A project folder's name as the page shows it (``cats.deepviz`` -> ``cats``)."""
    return root.name.removesuffix(".deepviz") or root.name


def open_project(root: str | Path) -> Project:
    """Open the project folder ``root`` for reading (cheap: arrays are memory-mapped on use)."""
    return Project(root)
