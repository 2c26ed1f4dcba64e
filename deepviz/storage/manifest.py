"""The project manifest as a typed model: the only code that reads or writes ``manifest.json``.

The manifest says what a project folder holds. Every build writes it last, so it names only
finished files. Its ``schema_version`` is checked before anything else is read: a project of
another version is refused with a message that says what to do.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deepviz.atomic import atomic_path
from deepviz.errors import ProjectError, UnknownName
from deepviz.settings import ProjectSettings

__all__ = [
    "CONTENT_NAMED", "FORMAT", "MANIFEST", "SCHEMA_VERSION", "FeatureSet", "GridInfo", "LayoutInfo", "Manifest",
    "ProjectFiles", "ThumbnailInfo", "TileInfo",
]

FORMAT: Literal["deepviz-project"] = "deepviz-project"
# 2: typed manifest with the project's build settings. Version 1 never shipped in a release.
SCHEMA_VERSION: Literal[2] = 2
MANIFEST = "manifest.json"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeatureSet(_Record):
    """One feature set: ``file`` holds an (N, D) float16 array, rows L2-normalised, row i = image id i.

    ``extractor`` is the registry name that embeds new images the same way; None when the
    features were imported from ``source`` (a file, with ``key`` naming the array in it).
    """

    dim: int = Field(ge=1)
    file: str
    dtype: Literal["float16"] = "float16"
    normalized: Literal["l2"] = "l2"
    extractor: str | None = None
    source: str | None = None
    key: str | None = None


class LayoutInfo(_Record):
    """How layout.npy was made: t-SNE of ``feature_set`` with ``seed``."""

    method: Literal["tsne"] = "tsne"
    feature_set: str
    seed: int


class GridInfo(_Record):
    """The map grid: its shape, the assignment method actually used, and how well it kept the layout.

    ``displacement``  mean distance in cells between an image's t-SNE position and its cell
    ``neighbourhood_preservation_k10``  share of each image's 10 nearest t-SNE neighbours kept on the grid
                                        (above 100,000 images, the mean over a seeded sample of 100,000)
    """

    rows: int = Field(ge=0)
    cols: int = Field(ge=0)
    method: Literal["optimal", "kdsplit", "kdsplit-fast", "greedy", "row-major"]
    displacement: float
    neighbourhood_preservation_k10: float


class ThumbnailInfo(_Record):
    """Packed JPEG thumbnails of every image's centre square, one pair of files per size.

    ``decode_size`` is the side of the crop decoded per image, from which thumbnails and model
    inputs are resized; an uploaded query is decoded the same way.
    """

    sizes: tuple[int, ...]
    format: Literal["jpeg"] = "jpeg"
    quality: int
    crop: Literal["center-square"] = "center-square"
    decode_size: int


class TileInfo(_Record):
    """The map's tile pyramid (see :mod:`deepviz.storage.tiles` and :mod:`deepviz.core.mosaic`).

    ``pixels`` holds every image's ``cell_px``-square copy, box-downsampled from its smallest
    thumbnail; ``folder`` the packed PNG tiles of the stored grid, one pair of files per level
    (``levels``: pixels per cell), named by the grid file, so a new grid means a new folder.
    """

    levels: tuple[int, ...]
    tile_px: int = Field(ge=1)
    cell_px: int = Field(ge=1)
    pixels: str = Field(description="(N, cell_px, cell_px, 3) uint8 (.npy)")
    folder: str = Field(description="LEVEL.bin + LEVEL.offsets.npy per level, tile (ty, tx) at index ty * tile_cols + tx")
    format: Literal["png"] = "png"


class ProjectFiles(_Record):
    """The files a build rewrites whole, each named by a hash of its content (``layout-3f2a….npy``).

    A file is never rewritten in place, so the old manifest's files stay as they were until a new
    manifest commits; the next build deletes the files no manifest names.
    """

    images: str = Field(description="id, path, label, width, height (Parquet)")
    rejects: str = Field(description="path, reason (Parquet)")
    layout: str = Field(description="(N, 2) float32 t-SNE coordinates (.npy)")
    grid: str = Field(description="(N, 2) int32 [row, col] cells (.npy)")


CONTENT_NAMED = {"images": ".parquet", "rejects": ".parquet", "layout": ".npy", "grid": ".npy"}  # stem -> suffix


class Manifest(_Record):
    """What a project folder holds (see :mod:`deepviz.storage.project` for the files)."""

    format: Literal["deepviz-project"] = "deepviz-project"
    schema_version: Literal[2] = 2  # SCHEMA_VERSION
    generation: int = Field(ge=1, description="Counts the builds committed; .work/gen-K for K <= generation is garbage")
    deepviz_version: str
    created: str
    updated: str
    source_root: str = Field(description="Absolute folder the images were scanned from, escaped as deepviz.filenames says")
    n_images: int = Field(ge=0)
    files: ProjectFiles
    settings: ProjectSettings
    feature_sets: dict[str, FeatureSet]
    default_feature_set: str
    layout: LayoutInfo
    grid: GridInfo
    thumbnails: ThumbnailInfo
    # None for a project built before tiles existed: the map shows mean colours until a build adds them.
    tiles: TileInfo | None = None

    def feature_set(self, name: str | None = None) -> FeatureSet:
        """The feature set ``name`` (the default one if None); UnknownName lists the valid names."""
        key = name or self.default_feature_set
        try:
            return self.feature_sets[key]
        except KeyError:
            raise UnknownName(f"no feature set {key!r} in this project; it has {list(self.feature_sets)}") from None

    @staticmethod
    def now() -> str:
        return datetime.now(timezone.utc).isoformat(timespec="seconds")

    @classmethod
    def read(cls, root: str | Path) -> Manifest:
        """The manifest of the project at ``root``, refused with a clear message if it is not one this deepviz reads."""
        path = Path(root) / MANIFEST
        if not path.is_file():
            raise ProjectError(
                f"{root} is not a deepviz project (no {MANIFEST}); create one with `deepviz build IMAGES -o {root}`"
            )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ProjectError(f"{path} is not valid JSON ({err}); rebuild the project with `deepviz build`") from None
        _check_version(root, path, raw)
        try:
            return cls.model_validate(raw)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ProjectError(
                f"{path} is damaged ({where}: {first['msg']}); rebuild the project with `deepviz build` into a new folder"
            ) from None

    def write(self, root: str | Path) -> None:
        """Replace ``root``/manifest.json atomically (a reader sees the old manifest or this one)."""
        with atomic_path(Path(root) / MANIFEST) as tmp:
            tmp.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")


def _check_version(root: str | Path, path: Path, raw: object) -> None:
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
        raise ProjectError(f"{path} is not a deepviz manifest (format={found!r})")
    version = raw.get("schema_version")
    if version == SCHEMA_VERSION:
        return
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ProjectError(
            f"{root} has schema version {version}, and this deepviz reads version {SCHEMA_VERSION}; "
            "upgrade deepviz (`pip install -U deepviz`)"
        )
    raise ProjectError(
        f"{root} was made by an earlier development version of deepviz (schema version {version}), which this "
        f"version cannot read; build it again: `deepviz build {raw.get('source_root', 'IMAGES')} -o NEW_FOLDER`"
    )
