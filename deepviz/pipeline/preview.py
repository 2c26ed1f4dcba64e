"""A first build's map before its thumbnails: the preview a server shows while the build goes on.

When a new project's default features are imported, its layout and grid are ready long before every
image is decoded and thumbnailed (build.py's ``_EarlyLayout``). The build then writes a *preview*: a
project folder of its own inside the workspace (``.work/gen-000001/preview``) holding the image table
(every file the scan found, with its label; sizes not known yet), the default feature set, the layout,
the grid and a manifest naming them, but no thumbnails, colours or tiles.

The build's progress record names the folder (storage/progress.py); a server believes it only while
that build lives and serves it marked as a preview of a project still building, so a half-built
project never looks finished: only the project's own manifest, written at the commit, does that. The
commit deletes the workspace, preview included; a killed build's preview is never served, and the
next run deletes it before writing its own.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from deepviz.atomic import save_npy, save_npy_named
from deepviz.storage import writer
from deepviz.storage.manifest import FeatureSet, ProjectFiles
from deepviz.storage.project import feature_file

PREVIEW_DIR = "preview"


def clear_preview(work_folder: Path) -> Path:
    """The preview folder of a workspace, emptied of anything an earlier (killed) run left in it."""
    folder = work_folder / PREVIEW_DIR
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def write_preview_files(
    folder: Path, paths: Sequence[str], labels: Callable[[str], str | None], feature_set: str,
    feats: np.ndarray, xy: np.ndarray, cells: np.ndarray,
) -> tuple[ProjectFiles, FeatureSet]:
    """Write everything of the preview but its manifest: image ``paths`` (id order) with their
    ``labels``, the (N, D) float16 normalised rows ``feats`` of ``feature_set``, the layout and the grid.
    Width and height are 0: the images are not decoded yet."""
    folder.mkdir(parents=True, exist_ok=True)
    n = len(paths)
    table = pa.table(
        {
            "id": pa.array(np.arange(n), pa.int64()),
            "path": pa.array(list(paths), pa.string()),
            "label": pa.array([labels(p) for p in paths], pa.string()),
            "width": pa.array(np.zeros(n, np.int32)),
            "height": pa.array(np.zeros(n, np.int32)),
        },
        schema=writer.IMAGE_SCHEMA,
    )
    images = writer.write_parquet(folder, "images", table)
    rejects = writer.write_rejects(folder, [])
    (folder / feature_file(feature_set)).parent.mkdir(exist_ok=True)
    save_npy(folder / feature_file(feature_set), np.asarray(feats, dtype=writer.FEATURE_DTYPE))
    layout, grid = save_npy_named(folder, "layout", xy), save_npy_named(folder, "grid", cells)
    files = ProjectFiles(images=images, rejects=rejects, layout=layout, grid=grid)
    return files, FeatureSet(dim=int(feats.shape[1]), file=feature_file(feature_set))
