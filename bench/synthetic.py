"""Synthetic projects written straight in the storage format, for benchmarks: no image is decoded.

    write_synthetic_project(root, n, d)                 random unit-norm float16 features, empty thumbnails
    write_synthetic_project(root, n, d, thumbs=True)    + a few distinct tiny JPEGs repeated, laid out in
                                                        smooth regions of the grid, and their mean colours
    add_tiles(root)                                     + the map's tile pyramid, as a build writes it

Ids are row-major over the grid (id = row * cols + col), so a region of similar thumbnails on
the map is a run of similar ids; the features are random and ignore it.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from deepviz._version import __version__
from deepviz.atomic import save_npy, save_npy_named
from deepviz.core.grid import grid_shape
from deepviz.settings import ProjectSettings
from deepviz.storage import writer
from deepviz.storage.manifest import FeatureSet, GridInfo, LayoutInfo, Manifest, ProjectFiles, ThumbnailInfo
from deepviz.storage.project import COLORS, THUMBS_DIR, feature_file
from deepviz.storage.thumbs import bin_path, offsets_path

FEATURE_SET = "synthetic"
THUMB_SIZES = (32, 64, 128)
N_KINDS = 12  # distinct thumbnails; each is repeated over its regions of the grid


def write_synthetic_project(root: Path, n: int, d: int, seed: int = 0, *, thumbs: bool = False) -> Path:
    """A project folder of ``n`` images with (n, d) random unit-norm float16 features.

    ``thumbs``  False: every thumbnail empty and every colour grey (only rankings can be measured);
                True: real JPEGs at 32, 64 and 128 px (``N_KINDS`` distinct ones) and their colours.
    """
    root.mkdir(parents=True)
    _write_features(root / feature_file(FEATURE_SET), n, d, seed)
    paths = [f"class{i % 10}/img_{i:07d}.jpg" for i in range(n)]
    summary = writer.ChunkSummary(new=paths, width=[640] * n, height=[480] * n)
    _, images = writer.write_images_table(root, writer.read_images_table(root, None, 0), summary, {p: p.split("/")[0] for p in paths})
    rows, cols = grid_shape(n, 1.5)
    files = ProjectFiles(
        images=images,
        rejects=writer.write_rejects(root, []),
        layout=save_npy_named(root, "layout", np.random.default_rng(seed).random((n, 2), dtype=np.float32)),
        grid=save_npy_named(root, "grid", np.stack(np.divmod(np.arange(n, dtype=np.int32), cols), axis=1)),
    )
    (root / THUMBS_DIR).mkdir()
    if thumbs:
        kinds = _regions(n, cols)
        palette = _palette()
        for size in THUMB_SIZES:
            _write_repeated_thumbs(root, size, kinds, [_jpeg(colour, size) for colour in palette])
        save_npy(root / COLORS, palette[kinds])
        sizes: tuple[int, ...] = THUMB_SIZES
    else:
        (root / THUMBS_DIR / "32.bin").write_bytes(b"")
        save_npy(root / THUMBS_DIR / "32.offsets.npy", np.zeros(n + 1, np.int64))
        save_npy(root / COLORS, np.full((n, 3), 128, np.uint8))
        sizes = (32,)
    _manifest(n, d, rows, cols, sizes, files).write(root)
    return root


def add_tiles(root: Path) -> float:
    """Write the project's tile pyramid (deepviz.pipeline.tiles) and name it in the manifest; returns
    the seconds it took, the time a build spends on it."""
    import time

    from deepviz.pipeline.tiles import write_tiles
    from deepviz.storage.project import open_project

    p = open_project(root)
    start = time.perf_counter()
    info = write_tiles(root, p.n, p.manifest.files.grid, p.grid_shape, p.thumbnails, None, 0)
    seconds = time.perf_counter() - start
    p.manifest.model_copy(update={"tiles": info}).write(root)
    return seconds


def _write_features(path: Path, n: int, d: int, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(n, d))
    rng = np.random.default_rng(seed)
    step = 1 << 16
    for start in range(0, n, step):
        block = rng.standard_normal((min(step, n - start), d), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + len(block)] = block
    out.flush()
    del out


def _palette() -> np.ndarray:
    """(N_KINDS, 3) uint8 mean colours: hues round the wheel, alternating light and dark."""
    import colorsys

    out = [colorsys.hsv_to_rgb(k / N_KINDS, 0.55, 0.9 if k % 2 else 0.6) for k in range(N_KINDS)]
    return np.round(np.array(out) * 255).astype(np.uint8)


def _regions(n: int, cols: int) -> np.ndarray:
    """(n,) int kind of each image: smooth blobs over the grid, so the map has areas, not noise."""
    rows = -(-n // cols)
    r, c = np.divmod(np.arange(n, dtype=np.float64), cols)
    u, v = r / max(1, rows) * 2 * np.pi, c / max(1, cols) * 2 * np.pi
    field = np.sin(3 * u) + np.cos(2 * v) + 0.7 * np.sin(2 * (u + v) + 1.0) + 0.4 * np.cos(5 * u - 3 * v)
    lo, hi = field.min(), field.max()
    return np.minimum(N_KINDS - 1, ((field - lo) / max(1e-9, hi - lo) * N_KINDS).astype(np.int64))


def _jpeg(colour: np.ndarray, size: int) -> bytes:
    """A ``size`` px JPEG whose mean is about ``colour``: a lighter disc on a darker ground."""
    from PIL import Image

    yy, xx = np.mgrid[:size, :size]
    disc = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2) < (size * 0.3) ** 2
    img = np.empty((size, size, 3), np.float64)
    img[:] = colour.astype(np.float64) * 0.85
    img[disc] = np.minimum(255, colour.astype(np.float64) * 0.85 + 60)
    img += colour.astype(np.float64) - img.mean(axis=(0, 1))
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=70)
    return buf.getvalue()


def _write_repeated_thumbs(root: Path, size: int, kinds: np.ndarray, jpegs: list[bytes]) -> None:
    """thumbs/SIZE.bin + offsets with image i's bytes = ``jpegs[kinds[i]]``, written block by block."""
    folder = root / THUMBS_DIR
    lengths = np.array([len(j) for j in jpegs], np.int64)
    offsets = np.zeros(len(kinds) + 1, np.int64)
    np.cumsum(lengths[kinds], out=offsets[1:])
    blobs = [np.frombuffer(j, np.uint8) for j in jpegs]
    with open(bin_path(folder, size), "wb") as f:
        for start in range(0, len(kinds), 1 << 14):
            f.write(np.concatenate([blobs[k] for k in kinds[start : start + (1 << 14)]]).tobytes())
    save_npy(offsets_path(folder, size), offsets)


def _manifest(n: int, d: int, rows: int, cols: int, sizes: tuple[int, ...], files: ProjectFiles) -> Manifest:
    return Manifest(
        generation=1, deepviz_version=__version__, created="bench", updated="bench", source_root="/nonexistent",
        n_images=n, files=files,
        settings=ProjectSettings(),
        feature_sets={FEATURE_SET: FeatureSet(dim=d, file=feature_file(FEATURE_SET), source="synthetic")},
        default_feature_set=FEATURE_SET,
        layout=LayoutInfo(feature_set=FEATURE_SET, seed=0),
        grid=GridInfo(rows=rows, cols=cols, method="row-major", displacement=0.0, neighbourhood_preservation_k10=0.0),
        thumbnails=ThumbnailInfo(sizes=sizes, quality=70, decode_size=max(sizes)),
    )
