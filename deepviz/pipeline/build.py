"""The one-liner: an image folder becomes (or grows) a deepviz project, resumably."""
from __future__ import annotations

import itertools
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from deepviz.core.tsne import FFT_THRESHOLD, tsne_layout
from deepviz.features.base import Extractor
from deepviz.images.decode import DEFAULT_MAX_PIXELS, decode_size
from deepviz.images.scan import ScanResult, scan
from deepviz.images.thumbs import DEFAULT_SIZES, JPEG_QUALITY
from deepviz.pipeline.extract import extract_chunks
from deepviz.pipeline.progress import Progress
from deepviz.storage import writer
from deepviz.storage.atomic import save_npy
from deepviz.storage.chunks import ChunkStore, config_key
from deepviz.storage.project import (
    COLORS,
    FORMAT,
    GRID,
    LAYOUT,
    MANIFEST,
    SCHEMA_VERSION,
    WORK_DIR,
    ProjectError,
    feature_file,
    read_manifest,
)

DEFAULT_MODEL = "mobilenet_v2"
DEFAULT_ASPECT = 1.5  # a map pane beside a query pane on a laptop screen is wider than tall
OPTIMAL_GRID_LIMIT = 2500  # exact assignment stays within seconds up to here (lapjv)


@dataclass
class BuildReport:
    """What a build did. ``seconds`` maps each step to its wall time; ``rejects`` lists (path, reason)."""

    project: Path
    n_images: int
    n_new: int
    n_scanned: int
    rejects: list[tuple[str, str]]
    feature_sets: list[str]
    grid: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    resumed_files: int = 0

    @property
    def images_per_second(self) -> float:
        total = sum(self.seconds.values())
        return self.n_new / total if total else 0.0


def build(
    images: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    models: Sequence[str | Extractor] | None = None,
    features: str | os.PathLike[str] | None = None,
    features_key: str | None = None,
    features_name: str | None = None,
    label_depth: int | None = None,
    labels_csv: str | os.PathLike[str] | None = None,
    thumb_sizes: Sequence[int] | None = None,
    aspect: float = DEFAULT_ASPECT,
    grid_method: str = "auto",
    seed: int = 0,
    workers: int | None = None,
    chunk_size: int = 256,
    batch_size: int = 32,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    extractor_options: dict[str, Any] | None = None,
    progress: bool = True,
) -> BuildReport:
    """Build ``out`` from the image folder ``images``, or bring an existing project up to date.

    Rerunning after an interruption resumes from the last finished chunk; rerunning after
    adding images processes only the new ones (ids of existing images never change).
    ``models`` are extractor registry names; ``features`` imports a precomputed feature
    file instead of (or besides) running a model; an ``Extractor`` object may stand in
    for a name (its ``name`` is stored). See ``deepviz build --help``.
    """
    root, out = Path(images), Path(out)
    bar = Progress(enabled=progress)
    seconds: dict[str, float] = {}
    manifest = _existing_manifest(out)
    base_n = int(manifest["n_images"]) if manifest else 0
    given = [m for m in models or () if not isinstance(m, str)]
    names = None if models is None else [m if isinstance(m, str) else m.name for m in models]
    model_names, sizes, imported = _settings(manifest, names, features, features_key, features_name, thumb_sizes)

    # Label options given now relabel every image; left out, an existing project keeps its
    # labels and labels new images the way it was built.
    relabel_all = manifest is None or label_depth is not None or labels_csv is not None
    if manifest and not relabel_all:
        label_depth, labels_csv = _label_settings(manifest)
    t = time.perf_counter()
    found = scan(root, label_depth=label_depth, labels_csv=labels_csv, skip=(out,))
    old_table = writer.read_images_table(out, base_n)
    known = set(old_table.column("path").to_pylist())
    todo = [p for p in found.paths if p not in known]
    seconds["scan"] = time.perf_counter() - t

    # Imported files are read (and checked) before any image is decoded: a wrong file fails fast.
    imported_rows = {name: _load_imported(spec, found) for name, spec in imported.items()}
    extractors = _make_extractors(model_names, given, extractor_options or {})
    decode_at = decode_size((e.input_size for e in extractors), sizes)
    store = ChunkStore(out / WORK_DIR, config_key(model_names, decode_at, sizes))
    out.mkdir(parents=True, exist_ok=True)
    have = set(manifest["feature_sets"]) if manifest else set()
    added = [e for e in extractors if e.name not in have]
    backfill = None
    if manifest and added:
        old_paths = old_table.column("path").to_pylist()
        t = time.perf_counter()
        backfill = _backfill(out, root, added, old_paths, decode_at, workers, chunk_size, batch_size, max_pixels, bar)
        seconds["backfill"] = time.perf_counter() - t
    store.discard_stale()
    done = store.done_paths()
    resumed = len(done.intersection(todo))
    remaining = [p for p in todo if p not in done]

    t = time.perf_counter()
    with bar.bar(len(remaining), "decode + features + thumbnails", "img") as tick:
        for chunk in extract_chunks(
            root, remaining, extractors, thumb_sizes=sizes, chunk_size=chunk_size, batch_size=batch_size,
            workers=workers or os.cpu_count() or 1, max_pixels=max_pixels,
        ):
            store.write(chunk)
            tick(len(chunk.paths))
    seconds["extract"] = time.perf_counter() - t

    t = time.perf_counter()
    summary = writer.summarize_chunks(store.read())
    labels = dict(zip(found.paths, found.labels))
    kept = writer.relabel(old_table, labels) if relabel_all else old_table
    table = writer.write_images_table(out, kept, summary, labels)
    n = table.num_rows
    for e in extractors:
        if backfill is not None and e in added:
            # A model new to the project: every row is written, the old images' from the backfill.
            blocks = itertools.chain(backfill.read_features(e.name), store.read_features(e.name))
            writer.write_feature_set(out, e.name, 0, e.dim, blocks, base_n + len(summary.new))
        else:
            writer.write_feature_set(out, e.name, base_n, e.dim, store.read_features(e.name), len(summary.new))
    for size in sizes:
        writer.append_thumbnails(out, size, base_n, store.read_thumbs(size))
    writer.write_colors(out, base_n, store.read_colors())
    feature_sets = {e.name: {"dim": e.dim, "extractor": e.name, "source": None} for e in extractors}
    for name, spec in imported.items():
        feature_sets[name] = _store_imported(out, name, spec, imported_rows[name], found, table.column("path").to_pylist())
    writer.write_rejects(out, summary.rejects)
    seconds["commit"] = time.perf_counter() - t

    default_set = _default_feature_set(manifest, model_names, imported)
    layout_info, grid_info = _layout_and_grid(out, store, manifest, default_set, n, summary, aspect, grid_method, seed, seconds, bar)

    writer.write_manifest(out, _manifest(
        manifest, found, n, feature_sets, default_set, layout_info, grid_info, sizes, decode_at, label_depth, labels_csv
    ))
    if backfill is not None:
        backfill.clear()
    store.clear()
    return BuildReport(
        project=out, n_images=n, n_new=len(summary.new), n_scanned=len(found.paths), rejects=summary.rejects,
        feature_sets=list(feature_sets), grid=grid_info, seconds=seconds, resumed_files=resumed,
    )


def _backfill(
    out: Path, root: Path, added: list[Extractor], old_paths: list[str], decode_at: int, workers: int | None,
    chunk_size: int, batch_size: int, max_pixels: int | None, bar: Progress,
) -> ChunkStore:
    """Embed the project's existing images with models it did not have, resumably, in id order."""
    names = [e.name for e in added]
    store = ChunkStore(out / WORK_DIR / "backfill", config_key(names, decode_at, ()))
    store.discard_stale()
    done = store.done_paths()
    remaining = [p for p in old_paths if p not in done]
    with bar.bar(len(remaining), f"features of existing images ({', '.join(names)})", "img") as tick:
        for chunk in extract_chunks(
            root, remaining, added, thumb_sizes=(), crop_size=decode_at, chunk_size=chunk_size, batch_size=batch_size,
            workers=workers or os.cpu_count() or 1, max_pixels=max_pixels,
        ):
            store.write(chunk)
            tick(len(chunk.paths))
    processed: list[str] = []
    failed: list[tuple[str, str]] = []
    for c in store.read():  # one pass: chunk order is the order the features will be written in
        for path, ok, reason in zip(c.paths.tolist(), c.ok.tolist(), c.reasons.tolist()):
            processed.append(path)
            if not ok:
                failed.append((path, reason))
    if failed:
        store.discard_failed()  # the rest is kept: a rerun after restoring the files resumes
        path, reason = failed[0]
        raise ProjectError(
            f"{len(failed)} image(s) of the project cannot be decoded again to add {names} (first: {path}: {reason}); "
            "restore the original files or build a new project"
        )
    if processed != old_paths:
        store.clear()
        raise ProjectError(f"the image list changed while adding {names}; run the same command again")
    return store


def _label_settings(manifest: dict[str, Any]) -> tuple[int | None, str | None]:
    """The label depth and CSV an existing project was built with (a CSV that is gone is dropped)."""
    scan_settings = manifest.get("scan", {})
    csv = scan_settings.get("labels_csv")
    return scan_settings.get("label_depth"), csv if csv and Path(csv).is_file() else None


def _existing_manifest(out: Path) -> dict[str, Any] | None:
    if not (out / MANIFEST).exists():
        if out.exists() and any(p.name != WORK_DIR for p in out.iterdir()):
            raise ProjectError(
                f"{out} exists, is not empty and is not a deepviz project; choose a new output folder "
                "so nothing in it is overwritten"
            )
        return None
    return read_manifest(out)


def _settings(
    manifest: dict[str, Any] | None,
    models: Sequence[str] | None,
    features: str | os.PathLike[str] | None,
    features_key: str | None,
    features_name: str | None,
    thumb_sizes: Sequence[int] | None,
) -> tuple[list[str], tuple[int, ...], dict[str, dict[str, Any]]]:
    """Models, thumbnail sizes and imported sets for this run, consistent with an existing project."""
    imported: dict[str, dict[str, Any]] = {}
    if manifest:
        have = [n for n, s in manifest["feature_sets"].items() if s.get("extractor")]
        # Models named now that the project lacks are added (existing images are embedded
        # too); models left out keep their feature sets: nothing is deleted by omission.
        model_names = have + [m for m in models or () if m not in have]
        sizes = tuple(manifest["thumbnails"]["sizes"])
        if thumb_sizes is not None and tuple(thumb_sizes) != sizes:
            raise ProjectError(f"this project stores thumbnails at {list(sizes)} px; build a new project for other sizes")
        for name, spec in manifest["feature_sets"].items():
            if not spec.get("extractor"):
                imported[name] = {"file": spec["source"], "key": spec.get("key")}
    else:
        model_names = list(models) if models is not None else ([] if features else [DEFAULT_MODEL])
        sizes = tuple(sorted(int(s) for s in (thumb_sizes or DEFAULT_SIZES)))
    if features is not None:
        name = features_name or Path(features).stem
        imported[name] = {"file": str(Path(features).resolve()), "key": features_key}
    if not model_names and not imported:
        raise ValueError("nothing to build features from: give --model NAME or --features FILE")
    return model_names, sizes, imported


def _make_extractors(names: Sequence[str], given: Sequence[Extractor], options: dict[str, Any]) -> list[Extractor]:
    """Extractor objects for ``names``: the ones passed in directly, the rest from the registry."""
    by_name = {e.name: e for e in given}
    if len(names) == len(by_name):
        return [by_name[n] for n in names]
    from deepviz.features.registry import get_extractor

    return [by_name[n] if n in by_name else get_extractor(n, **options) for n in names]


def _load_imported(spec: dict[str, Any], found: ScanResult) -> np.ndarray:
    """(len(found.paths), D) float32 rows of an imported feature file, in scan order."""
    from deepviz.features.importers import load_features

    return load_features(spec["file"], found.paths, key=spec.get("key"))


def _store_imported(
    out: Path, name: str, spec: dict[str, Any], rows: np.ndarray, found: ScanResult, id_paths: list[str]
) -> dict[str, Any]:
    """Align imported rows (scan order) to the project's ids and store them normalised."""
    index = {p: i for i, p in enumerate(found.paths)}
    missing = [p for p in id_paths if p not in index]
    if missing:
        raise ProjectError(
            f"{len(missing)} image(s) of the project are no longer in the image folder (first: {missing[0]}), "
            f"so the feature file {spec['file']} cannot be aligned to them; restore them or build a new project"
        )
    order = np.fromiter((index[p] for p in id_paths), dtype=np.int64, count=len(id_paths))
    block = 4096
    writer.write_feature_set(
        out, name, 0, rows.shape[1], (rows[order[s : s + block]] for s in range(0, len(order), block)), len(order)
    )
    return {"dim": int(rows.shape[1]), "extractor": None, "source": spec["file"], "key": spec.get("key")}


def _default_feature_set(manifest: dict[str, Any] | None, models: list[str], imported: dict[str, Any]) -> str:
    if manifest:
        return str(manifest["default_feature_set"])
    # Precomputed features are the user's own choice, so they lead when given.
    return next(iter(imported)) if imported else models[0]


def _layout_and_grid(
    out: Path, store: ChunkStore, manifest: dict[str, Any] | None, default_set: str, n: int,
    summary: writer.ChunkSummary, aspect: float, grid_method: str, seed: int, seconds: dict[str, float],
    bar: Progress,
) -> tuple[dict[str, Any], dict[str, Any]]:
    from deepviz.core import grid as gridmod

    if manifest and not summary.new and manifest["grid"].get("aspect") == aspect and (
        grid_method in ("auto", manifest["grid"]["method"])
    ):
        return manifest["layout"], manifest["grid"]  # nothing new: the map stays as it is
    feats = np.load(out / feature_file(default_set), mmap_mode="r")[:n]
    t = time.perf_counter()
    cached = store.folder / f"layout-{default_set}-{n}-{seed}.npy"
    if cached.exists():
        xy = np.load(cached)
    else:
        bar.note(f"t-SNE layout of {n} images ({default_set}) ...")
        # Threads only pay off for big sets; on small ones they were 20x slower here.
        jobs = (os.cpu_count() or 1) if n >= FFT_THRESHOLD else 1
        previous = _previous_layout(out, manifest, default_set, n)
        xy = tsne_layout(np.asarray(feats, dtype=np.float32), seed=seed, n_jobs=jobs, previous=previous)
        save_npy(cached, xy)
    seconds["layout"] = time.perf_counter() - t
    t = time.perf_counter()
    method = grid_method if grid_method != "auto" else ("optimal" if n <= OPTIMAL_GRID_LIMIT else "kdsplit")
    shape = gridmod.grid_shape(n, aspect)
    bar.note(f"placing {n} images on a {shape[0]} x {shape[1]} grid ({method}) ...")
    cells = gridmod.gridify(xy, shape, method=method, seed=seed) if n else np.zeros((0, 2), np.int32)
    seconds["grid"] = time.perf_counter() - t
    save_npy(out / LAYOUT, xy)
    save_npy(out / GRID, cells)
    quality = {
        "displacement": float(gridmod.displacement(xy, cells, shape)) if n else 0.0,
        "neighbourhood_preservation_k10": float(gridmod.neighbourhood_preservation(xy, cells, k=10)) if n > 10 else 1.0,
    }
    return (
        {"method": "tsne", "feature_set": default_set, "seed": seed},
        {"rows": shape[0], "cols": shape[1], "aspect": aspect, "method": method, **quality},
    )


def _previous_layout(out: Path, manifest: dict[str, Any] | None, default_set: str, n: int) -> np.ndarray | None:
    """The committed layout of the old images, when the new one can start from it."""
    if not manifest or manifest["layout"].get("feature_set") != default_set:
        return None
    old_n = int(manifest["n_images"])
    if not 4 <= old_n < n or not (out / LAYOUT).exists():
        return None
    return np.load(out / LAYOUT)[:old_n].astype(np.float64)


def _manifest(
    old: dict[str, Any] | None, found: ScanResult, n: int, feature_sets: dict[str, dict[str, Any]], default_set: str,
    layout: dict[str, Any], grid: dict[str, Any], sizes: tuple[int, ...], decode_at: int, label_depth: int | None,
    labels_csv: str | os.PathLike[str] | None,
) -> dict[str, Any]:
    from deepviz import __version__

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "deepviz_version": __version__,
        "created": old["created"] if old else now,
        "updated": now,
        "source_root": str(found.root.resolve()),
        "n_images": n,
        "feature_sets": {
            name: {**spec, "dtype": np.dtype(writer.FEATURE_DTYPE).name, "normalized": "l2", "file": feature_file(name)}
            for name, spec in feature_sets.items()
        },
        "default_feature_set": default_set,
        "layout": layout,
        "grid": grid,
        "thumbnails": {
            "sizes": list(sizes), "format": "jpeg", "quality": JPEG_QUALITY, "crop": "center-square",
            "decode_size": decode_at,
        },
        "colors": {"file": COLORS, "of": "centre crop", "dtype": "uint8"},
        "scan": {"label_depth": label_depth, "labels_csv": str(Path(labels_csv).resolve()) if labels_csv else None},
    }
