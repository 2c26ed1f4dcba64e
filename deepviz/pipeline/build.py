"""The one-liner: an image folder becomes (or grows) a deepviz project, resumably.

``build`` is a short chain of steps, each taking the values it needs and returning new ones:
plan (settings merged with the project's, extractors, imports) → scan → extract new images
into chunks → commit the chunks into the project's files → layout and grid → manifest last.
"""
from __future__ import annotations

import errno
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa

from deepviz._version import __version__
from deepviz.atomic import save_npy, save_npy_named
from deepviz.core import grid as gridmod
from deepviz.core.normalize import ZeroFeatureError, l2_normalize
from deepviz.core.tsne import FFT_THRESHOLD, INIT_NEIGHBOURS, tsne_layout
from deepviz.errors import DeepvizError, ProjectError, UsageError
from deepviz.faults import checkpoint
from deepviz.features.base import Extractor
from deepviz.features.importers import load_features
from deepviz.features.registry import extractor_recipe
from deepviz.filenames import escape, unescape
from deepviz.images.decode import DecodeLimits, decode_size
from deepviz.images.remote import is_uri, scan_uri
from deepviz.images.scan import ScanResult, scan
from deepviz.images.thumbs import JPEG_QUALITY
from deepviz.pipeline import preview
from deepviz.pipeline.extract import extract_chunks
from deepviz.pipeline.progress import Progress
from deepviz.pipeline.ray_engine import RayPlan, ray_extract_chunks
from deepviz.pipeline.tiles import write_tiles
from deepviz.settings import DEFAULT_MODEL, DEFAULT_THUMB_SIZES, BuildSettings, ProjectSettings, validated
from deepviz.storage import writer
from deepviz.storage.chunks import ChunkStore, config_key
from deepviz.storage.lock import HOLDER, LOCK, build_lock, servers
from deepviz.storage.manifest import (
    MANIFEST,
    FeatureSet,
    GridInfo,
    LayoutInfo,
    Manifest,
    ProjectFiles,
    ThumbnailInfo,
    TileInfo,
)
from deepviz.storage.progress import ProgressWriter
from deepviz.storage.project import THUMBS_DIR, feature_file
from deepviz.storage.thumbs import ThumbnailStore
from deepviz.storage.workspace import WORK_DIR, Workspace, is_build_in_progress, remove_unnamed

__all__ = ["ARRAYS_DIR", "BuildReport", "DiskFull", "build"]

ARRAYS_DIR = "arrays"  # where deepviz.from_arrays lays out the images, features and labels it was given
# What a new project folder may hold before its first commit: the build's own files, and from_arrays' inputs.
_OWN = frozenset({WORK_DIR, LOCK, HOLDER, ARRAYS_DIR})
# Imported default features start t-SNE beside decoding (see _EarlyLayout); bench_build turns it
# off to time the sequential pipeline in the same process.
EARLY_LAYOUT = True
# A first build's decoding runs behind its early layout (lowest CPU priority) until the preview is
# written; bench_build turns it off to time the two sharing the cores evenly, in the same process.
PREVIEW_FIRST = True
# The grid's 10-NN preservation is reported for a seeded sample of this many images above it: at 1M
# the whole set's took 79 s (on 2 busy cores) where the sample's took 9 s and gave 0.5951 for 0.5950.
GRID_QUALITY_SAMPLE = 100_000


@dataclass
class BuildReport:
    """What a build did. ``seconds`` maps each step to its wall time; ``rejects`` lists (path, reason)."""

    project: Path
    n_images: int
    n_new: int
    n_scanned: int
    rejects: list[tuple[str, str]]
    feature_sets: list[str]
    grid: GridInfo
    seconds: dict[str, float] = field(default_factory=dict)
    resumed_files: int = 0
    ran_on: str = ""  # with --engine ray: where each step ran
    # Seconds from the build's start until a server could show the map: the preview's, for a first
    # build with imported features (pipeline/preview.py); None when there was none (the commit's time).
    preview_at: float | None = None

    @property
    def images_per_second(self) -> float:
        total = sum(self.seconds.values())
        return self.n_new / total if total else 0.0


@dataclass(frozen=True)
class _Import:
    """A feature file to import: ``file`` (absolute) and the ``key`` of the array in it."""

    file: str
    key: str | None


@dataclass(frozen=True)
class _Plan:
    """What this run builds, once the given settings are merged with the existing project's.

    ``given`` names the settings the caller set explicitly (the rest are defaults or the project's).
    ``root`` is the image folder, or its URI (a str) when the images are in object storage.
    """

    root: Path | str
    out: Path
    settings: BuildSettings
    given: frozenset[str]
    previous: Manifest | None
    extractors: list[Extractor]
    imported: dict[str, _Import]
    sizes: tuple[int, ...]
    decode_at: int
    default_set: str
    objects: dict[str, Extractor]
    ray: RayPlan

    @property
    def generation(self) -> int:
        """The committed generation this build starts from (0 for a new project)."""
        return self.previous.generation if self.previous else 0

    @property
    def base_n(self) -> int:
        return self.previous.n_images if self.previous else 0

    @property
    def model_names(self) -> list[str]:
        return [e.name for e in self.extractors]

    @property
    def added(self) -> list[Extractor]:
        """Models the existing project lacks: every old image is embedded with them too."""
        have = set(self.previous.feature_sets) if self.previous else set()
        return [e for e in self.extractors if e.name not in have] if self.previous else []


def _extract(plan: _Plan, store: ChunkStore, paths: Sequence[str], extractors: Sequence[Extractor], bar: Progress,
             what: str, thumbs: bool, report: ProgressWriter, behind: threading.Event | None = None) -> None:
    """Decode, embed (and thumbnail) ``paths`` into ``store``, one committed chunk at a time; at the
    lowest CPU priority until ``behind`` is set (local engine: Ray's workers are processes of their own)."""
    s = plan.settings
    done = 0
    report(what, done, len(paths))
    sizes = plan.sizes if thumbs else ()
    if s.engine == "ray":
        plan.ray.progress = bar.enabled
        chunks = ray_extract_chunks(
            plan.root, paths, _recipes([e.name for e in extractors], plan.objects, s.device), extractors,
            plan.ray, thumb_sizes=sizes, crop_size=plan.decode_at, chunk_size=s.chunk_size, batch_size=s.batch_size,
            limits=DecodeLimits(max_pixels=s.max_pixels, max_decode_mb=s.max_decode_mb),
        )
    else:
        chunks = extract_chunks(
            Path(plan.root), paths, extractors, thumb_sizes=sizes, crop_size=plan.decode_at,
            chunk_size=s.chunk_size, batch_size=s.batch_size, workers=s.workers,
            max_pixels=s.max_pixels, max_decode_mb=s.max_decode_mb, behind=behind,
        )
    with bar.bar(len(paths), what, "img") as tick:
        for chunk in chunks:
            store.write(chunk)
            checkpoint("chunk")
            tick(len(chunk.paths))
            done += len(chunk.paths)
            report(what, done, len(paths))


class _Timer:
    """Wall time of each named step, in the order they ran; each step's start is the build's progress
    (``report``) unless it runs beside another."""

    def __init__(self, report: ProgressWriter) -> None:
        self.seconds: dict[str, float] = {}
        self.report = report
        self.started = time.perf_counter()
        self.marks: dict[str, float] = {}

    def mark(self, name: str) -> None:
        """Note when ``name`` happened, in seconds since the build started."""
        self.marks[name] = time.perf_counter() - self.started

    @contextmanager
    def step(self, name: str, *, beside: bool = False) -> Iterator[None]:
        if not beside:
            self.report(name)
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start


def build(
    images: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    models: Sequence[str | Extractor] | None = None,
    progress: bool = True,
    **settings: object,
) -> BuildReport:
    """Build ``out`` from the image folder ``images``, or bring an existing project up to date.

    Rerunning after an interruption resumes from the last finished chunk; rerunning after
    adding images processes only the new ones (ids of existing images never change).
    ``images`` may be a URI, ``s3://BUCKET/PREFIX`` or ``gs://BUCKET/PREFIX``, read through pyarrow's
    filesystems with ``engine="ray"`` (``deepviz.images.remote`` says where the credentials come from).
    ``models`` are extractor registry names, or ``Extractor`` objects (their ``name`` is
    stored); ``settings`` are the fields of ``deepviz.settings.BuildSettings``
    (``features=FILE`` imports precomputed features, ``thumb_sizes``, ``aspect``, ``seed``, ...;
    see ``deepviz build --help``). Settings that shape the project (labels, grid, seed) are
    kept from the existing project unless given again.
    """
    objects = {m.name: m for m in models or () if not isinstance(m, str)}
    if models is not None:
        settings["models"] = tuple(m if isinstance(m, str) else m.name for m in models)
    given = validated(BuildSettings, dict(settings))
    out = Path(out)
    _existing_manifest(out)  # refuse a folder that is not ours before writing anything in it
    try:
        with build_lock(out):
            bar = Progress(enabled=progress)
            for pid in servers(out):
                bar.note(f"deepviz serve (process {pid}) is serving this project: it shows the current version "
                         "until this build commits, then the new one")
            return _build(_plan(str(images) if is_uri(images) else Path(images), out, given, objects), bar)
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        # Files written for a commit that did not happen take space and are of no use.
        remove_unnamed(out, Manifest.read(out) if (out / MANIFEST).exists() else None)
        raise DiskFull(
            f"the disk is full ({err.filename or out}: {err.strerror}); free some space and run the same command "
            "again: the project as it was and the work done so far are kept"
        ) from None


class DiskFull(DeepvizError, OSError):
    """No space left while building; nothing committed is lost and the rerun resumes."""


def _build(plan: _Plan, bar: Progress) -> BuildReport:
    """The build itself, under the project's lock; ``checkpoint`` names the points the crash tests kill at."""
    timer = _Timer(ProgressWriter(plan.out))
    with timer.step("scan"):
        found = _scan(plan)
        old_table = writer.read_images_table(plan.out, plan.previous.files.images if plan.previous else None, plan.base_n)
        known = set(old_table.column("path").to_pylist())
        todo = [p for p in found.paths if p not in known]
    checkpoint("scan")
    # Imported files are read (and checked) before any image is decoded: a wrong file fails fast.
    imported_rows = {name: _load_imported(spec, found) for name, spec in plan.imported.items()}
    work = Workspace.prepare(plan.out, plan.previous)
    backfill = None
    if plan.added:
        with timer.step("backfill"):
            backfill = _backfill(plan, work, old_table.column("path").to_pylist(), bar, timer.report)
    store = ChunkStore(work.folder / "chunks", config_key(plan.model_names, plan.decode_at, plan.sizes))
    store.discard_stale()
    done = store.done_paths()
    early = _early_layout(plan, work, old_table, todo, found, imported_rows, bar, timer)
    with timer.step("extract"):
        _extract(plan, store, [p for p in todo if p not in done], plan.extractors, bar, "decode + features + thumbnails",
                 True, timer.report, behind=early.previewed if early else None)
    if plan.previous is None:
        _require_an_image(plan, found, store)
    with timer.step("commit"):
        commit = _commit(plan, store, backfill, found, old_table, imported_rows)
    layout, grid, xy_files = _layout_and_grid(plan, work, commit, early, bar, timer)
    with timer.step("tiles"):
        tiles = _tiles(plan, commit.n, xy_files[1], grid)
    checkpoint("manifest-before")
    files = ProjectFiles(images=commit.images_file, rejects=commit.rejects_file, layout=xy_files[0], grid=xy_files[1])
    source = escape(found.uri or str(found.root.resolve()))
    manifest = _manifest(plan, source, commit.n, files, commit.feature_sets, layout, grid, tiles)
    if plan.previous is None or not _same_project(manifest, plan.previous):
        manifest.write(plan.out)  # the commit: one atomic rename
    checkpoint("manifest")  # committed: what is left in .work, and unnamed files, are garbage
    work.clear(manifest)
    return BuildReport(
        project=plan.out, n_images=commit.n, n_new=len(commit.summary.new), n_scanned=len(found.paths),
        rejects=commit.summary.rejects, feature_sets=list(commit.feature_sets), grid=grid, seconds=timer.seconds,
        resumed_files=len(done.intersection(todo)), ran_on=plan.ray.summary() if plan.settings.engine == "ray" else "",
        preview_at=timer.marks.get("preview"),
    )


@dataclass(frozen=True)
class _Commit:
    """What the commit step wrote: the new rows, the image table (its file name) and the feature sets."""

    summary: writer.ChunkSummary
    table: pa.Table
    images_file: str
    rejects_file: str
    feature_sets: dict[str, FeatureSet]

    @property
    def n(self) -> int:
        return int(self.table.num_rows)


def _plan(root: Path | str, out: Path, given: BuildSettings, objects: dict[str, Extractor]) -> _Plan:
    """Merge ``given`` with the existing project (if any) and make the extractors."""
    previous = _existing_manifest(out)
    # Settings that shape the project are kept unless given again: an incremental build
    # never silently relabels, re-grids or changes the thumbnails.
    settings = given
    if previous is not None:
        kept = previous.settings.model_dump()
        settings = given.model_copy(update={k: v for k, v in kept.items() if k not in given.model_fields_set})
        # A labels CSV that is gone is dropped rather than failing every later build.
        if settings.labels_csv is not None and "labels_csv" not in given.model_fields_set:
            stored = Path(unescape(str(settings.labels_csv)))  # the manifest holds paths as escaped text
            settings = settings.model_copy(update={"labels_csv": stored if stored.is_file() else None})
    if isinstance(root, str) and settings.engine != "ray":
        raise UsageError(
            f"{root}: images in object storage are read by the Ray engine; add --engine ray "
            "(pip install 'deepviz[ray]'), or copy them to a local folder"
        )
    model_names, imported = _feature_sources(previous, settings)
    sizes = _thumb_sizes(previous, settings)
    extractors = _make_extractors(model_names, objects, settings.device)
    if previous is not None:
        default_set = previous.default_feature_set
    else:
        # Precomputed features are the user's own choice, so they lead when given.
        default_set = next(iter(imported)) if imported else model_names[0]
    decode_at = decode_size((e.input_size for e in extractors), sizes)
    given_names = frozenset(given.model_fields_set)
    gpus = 1.0 if settings.device.startswith("cuda") else 0.0  # a GPU model actor holds one GPU
    ray = RayPlan(address=settings.ray_address, actors=settings.ray_actors or 1, gpus_per_actor=gpus)
    return _Plan(root, out, settings, given_names, previous, extractors, imported, sizes, decode_at, default_set, objects, ray)


def _existing_manifest(out: Path) -> Manifest | None:
    """The project's manifest; None for a new project (or a first build to resume); refuses anything else."""
    if not (out / MANIFEST).exists():
        ours = is_build_in_progress(out) or not out.exists() or all(p.name in _OWN for p in out.iterdir())
        if not ours:
            raise ProjectError(
                f"{out} exists, is not empty and is not a deepviz project; choose a new output folder "
                "so nothing in it is overwritten"
            )
        return None
    return Manifest.read(out)


def _feature_sources(previous: Manifest | None, settings: BuildSettings) -> tuple[list[str], dict[str, _Import]]:
    """The models to run and the feature files to import, consistent with an existing project."""
    imported: dict[str, _Import] = {}
    if previous is not None:
        have = [n for n, s in previous.feature_sets.items() if s.extractor]
        # Models named now that the project lacks are added (existing images are embedded
        # too); models left out keep their feature sets: nothing is deleted by omission.
        model_names = have + [m for m in settings.models if m not in have]
        for name, spec in previous.feature_sets.items():
            if not spec.extractor and spec.source:
                imported[name] = _Import(unescape(spec.source), spec.key)
    else:
        model_names = list(settings.models) or ([] if settings.features else [DEFAULT_MODEL])
    if settings.features is not None:
        name = settings.features_name or escape(settings.features.stem)  # a name JSON and Parquet can hold
        imported[name] = _Import(str(settings.features.resolve()), settings.features_key)
    if not model_names and not imported:
        raise UsageError("nothing to build features from: give --model NAME or --features FILE")
    return model_names, imported


def _thumb_sizes(previous: Manifest | None, settings: BuildSettings) -> tuple[int, ...]:
    if previous is None:
        return tuple(sorted(set(settings.thumb_sizes or DEFAULT_THUMB_SIZES)))
    sizes = previous.thumbnails.sizes
    if settings.thumb_sizes is not None and tuple(sorted(set(settings.thumb_sizes))) != sizes:
        raise ProjectError(f"this project stores thumbnails at {list(sizes)} px; build a new project for other sizes")
    return sizes


def _make_extractors(names: Sequence[str], objects: dict[str, Extractor], device: str) -> list[Extractor]:
    """Extractor objects for ``names``: the ones passed in directly, the rest from the registry."""
    return [make() for make in _recipes(names, objects, device)]


def _recipes(names: Sequence[str], objects: dict[str, Extractor], device: str) -> list[Callable[[], Extractor]]:
    """How to make each extractor of ``names``, in this process or a Ray actor (objects passed in are sent as they are)."""
    options: dict[str, object] = {"device": device} if device != "cpu" else {}
    return [partial(_given, objects[n]) if n in objects else extractor_recipe(n, **options) for n in names]


def _given(extractor: Extractor) -> Extractor:
    return extractor


def _scan(plan: _Plan) -> ScanResult:
    s = plan.settings
    if isinstance(plan.root, str):
        return scan_uri(plan.root, label_depth=s.label_depth, labels_csv=s.labels_csv)
    return scan(plan.root, label_depth=s.label_depth, labels_csv=s.labels_csv, skip=(plan.out,), follow_symlinks=s.follow_symlinks)


def _backfill(plan: _Plan, work: Workspace, old_paths: list[str], bar: Progress, report: ProgressWriter) -> ChunkStore:
    """Embed the project's existing images with the models it did not have, resumably, in id order."""
    names = [e.name for e in plan.added]
    store = ChunkStore(work.folder / "backfill", config_key(names, plan.decode_at, ()))
    store.discard_stale()
    done = store.done_paths()
    remaining = [p for p in old_paths if p not in done]
    _extract(plan, store, remaining, plan.added, bar, f"features of existing images ({', '.join(names)})", False, report)
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
        store.discard_all()
        raise ProjectError(f"the image list changed while adding {names}; run the same command again")
    return store


def _commit(
    plan: _Plan, store: ChunkStore, backfill: ChunkStore | None, found: ScanResult, old_table: pa.Table,
    imported_rows: dict[str, np.ndarray],
) -> _Commit:
    """Stream the finished chunks into the project's files (every file but the manifest)."""
    out, base_n = plan.out, plan.base_n
    summary = writer.summarize_chunks(store.read(), found.rejects)
    labels = dict(zip(found.paths, found.labels))
    # Label options given now relabel every image; left out, old images keep their labels.
    relabel = plan.previous is None or bool({"label_depth", "labels_csv"} & plan.given)
    kept = writer.relabel(old_table, labels) if relabel else old_table
    table, images_file = writer.write_images_table(out, kept, summary, labels)
    checkpoint("images-table")
    feature_sets: dict[str, FeatureSet] = {}
    for e in plan.extractors:
        if backfill is not None and e in plan.added:
            # A model new to the project: every row is written, the old images' from the backfill.
            blocks = itertools.chain(backfill.read_features(e.name), store.read_features(e.name))
            writer.write_feature_set(out, e.name, 0, e.dim, blocks, base_n + len(summary.new))
        else:
            writer.write_feature_set(out, e.name, base_n, e.dim, store.read_features(e.name), len(summary.new))
        feature_sets[e.name] = FeatureSet(dim=e.dim, file=feature_file(e.name), extractor=e.name)
        checkpoint("features")
    for size in plan.sizes:
        writer.append_thumbnails(out, size, base_n, store.read_thumbs(size))
        checkpoint("thumbnails")
    writer.write_colors(out, base_n, store.read_colors())
    checkpoint("colors")
    id_paths = table.column("path").to_pylist()
    for name, spec in plan.imported.items():
        feature_sets[name] = _store_imported(out, name, spec, imported_rows[name], found, id_paths)
        checkpoint("imported")
    rejects_file = writer.write_rejects(out, summary.rejects)
    return _Commit(summary, table, images_file, rejects_file, feature_sets)


def _require_an_image(plan: _Plan, found: ScanResult, store: ChunkStore) -> None:
    """A new project needs at least one image: say what was found instead of making an empty map."""
    summary = writer.summarize_chunks(store.read())
    if summary.new:
        return
    rejects = [*found.rejects, *summary.rejects]
    shown = "; ".join(f"{path} ({reason})" for path, reason in rejects[:5])
    more = f"; and {len(rejects) - 5} more" if len(rejects) > 5 else ""
    raise UsageError(
        f"no images in {plan.root}: 0 decodable files among {len(found.paths)} image file(s) found"
        + (f"; rejected: {shown}{more}" if rejects else "")
        + "; point deepviz build at a folder holding JPEG, PNG, WebP, GIF, BMP or TIFF images"
    )


def _load_imported(spec: _Import, found: ScanResult) -> np.ndarray:
    """(len(found.paths), D) float32 rows of an imported feature file, in scan order."""
    return load_features(spec.file, found.paths, key=spec.key)


def _store_imported(
    out: Path, name: str, spec: _Import, rows: np.ndarray, found: ScanResult, id_paths: list[str]
) -> FeatureSet:
    """Align imported rows (scan order) to the project's ids and store them normalised."""
    index = {p: i for i, p in enumerate(found.paths)}
    missing = [p for p in id_paths if p not in index]
    if missing:
        raise ProjectError(
            f"{len(missing)} image(s) of the project are no longer in the image folder (first: {missing[0]}), "
            f"so the feature file {spec.file} cannot be aligned to them; restore them or build a new project"
        )
    order = np.fromiter((index[p] for p in id_paths), dtype=np.int64, count=len(id_paths))
    block = 4096
    writer.write_feature_set(
        out, name, 0, rows.shape[1], (rows[order[s : s + block]] for s in range(0, len(order), block)), len(order)
    )
    return FeatureSet(dim=int(rows.shape[1]), file=feature_file(name), source=escape(spec.file), key=spec.key)


class _EarlyLayout:
    """A t-SNE started before the images are decoded, because its features were imported: it runs on
    a thread beside decoding (openTSNE and Pillow both work outside the GIL), so the two cores share
    the two stages. Its rows are ``paths`` (the old images', then every new file found); the images
    that fail to decode are dropped from it afterwards, as their neighbours are already placed.

    ``then`` (a first build's) runs on the same thread once the layout is done: it grids the map and
    writes the preview a server shows until the commit (pipeline/preview.py); the commit keeps that
    grid when the images committed are exactly ``paths``, in that order. Until the preview is written,
    decoding runs behind the layout (``previewed``; pipeline/extract.py): the user waits for the map,
    and thumbnails made sooner would show only after it anyway.

    The thread is a daemon: an interrupted build exits at once instead of waiting for the t-SNE."""

    def __init__(
        self, paths: list[str], run: Callable[[], np.ndarray], timer: _Timer,
        then: Callable[[np.ndarray], tuple[GridInfo, np.ndarray]] | None = None,
    ) -> None:
        self.paths = paths
        self._result: list[np.ndarray] = []
        self._grid: list[tuple[GridInfo, np.ndarray]] = []
        self._error: list[BaseException] = []

        # Set once the preview is written (or failed): decoding runs behind the layout until then.
        self.previewed = threading.Event() if then is not None and PREVIEW_FIRST else None

        def target() -> None:
            try:
                with timer.step("layout (beside extract)", beside=True):
                    self._result.append(run())
                if then is not None:
                    with timer.step("grid + preview (beside extract)", beside=True):
                        self._grid.append(then(self._result[0]))
                    timer.mark("preview")
            except BaseException as err:  # handed to the build's own thread by rows_for
                self._error.append(err)
            finally:
                if self.previewed is not None:
                    self.previewed.set()

        self._thread = threading.Thread(target=target, name="deepviz-layout", daemon=True)
        self._thread.start()

    def rows_for(self, id_paths: list[str]) -> np.ndarray:
        """(len(id_paths), 2) float32: the layout's row of each image, in id order (waits for the t-SNE)."""
        self._thread.join()
        if self._error:
            raise self._error[0]
        index = {p: i for i, p in enumerate(self.paths)}
        return self._result[0][np.fromiter((index[p] for p in id_paths), np.int64, count=len(id_paths))]

    def grid_for(self, id_paths: list[str]) -> tuple[GridInfo, np.ndarray] | None:
        """The preview's grid when the committed images are exactly its rows (none rejected), else None."""
        self._thread.join()
        return self._grid[0] if self._grid and id_paths == self.paths else None


def _early_layout(
    plan: _Plan, work: Workspace, old_table: pa.Table, todo: list[str], found: ScanResult,
    imported_rows: dict[str, np.ndarray], bar: Progress, timer: _Timer,
) -> _EarlyLayout | None:
    """Start the layout now when its features need no decoding (an imported default set) and it will
    change (new images); otherwise None, and ``_layout_and_grid`` computes it after the commit."""
    rows = imported_rows.get(plan.default_set)
    if rows is None or not todo or not EARLY_LAYOUT:
        return None
    old_paths = old_table.column("path").to_pylist()
    scan_row = {p: i for i, p in enumerate(found.paths)}
    if any(p not in scan_row for p in old_paths):
        return None  # old images have left the folder: the import fails at commit, with its message
    paths = old_paths + todo
    # The very rows the project stores (normalised, float16), so the map is the one a sequential build makes.
    try:
        feats = l2_normalize(rows[np.fromiter((scan_row[p] for p in paths), np.int64, count=len(paths))],
                             out_dtype=writer.FEATURE_DTYPE)
    except ZeroFeatureError:
        return None  # the commit refuses the file, with its message
    then = None
    if plan.previous is None:  # a first build has no map to show: a preview of it, as soon as it is laid out
        then = partial(_preview, plan, work, found, paths, feats, bar, timer.report)
        bar.note(f"the map can be seen before the thumbnails are made: `deepviz serve {plan.out}` shows it as soon "
                 "as it is laid out")
    return _EarlyLayout(paths, lambda: _layout(plan, work, feats, bar), timer, then)


def _preview(
    plan: _Plan, work: Workspace, found: ScanResult, paths: list[str], feats: np.ndarray, bar: Progress,
    report: ProgressWriter, xy: np.ndarray,
) -> tuple[GridInfo, np.ndarray]:
    """Grid the early layout and write the preview of a first build (pipeline/preview.py); its grid."""
    s = plan.settings
    grid, cells = _grid(xy, len(paths), s.aspect, s.grid_method, s.seed, bar)
    folder = preview.clear_preview(work.folder)
    labels = dict(zip(found.paths, found.labels))
    files, feature_set = preview.write_preview_files(folder, paths, labels.get, plan.default_set, feats, xy, cells)
    layout = LayoutInfo(feature_set=plan.default_set, seed=s.seed)
    source = escape(found.uri or str(found.root.resolve()))
    _manifest(plan, source, len(paths), files, {plan.default_set: feature_set}, layout, grid, None).write(folder)
    checkpoint("preview")
    report.preview(folder)
    return grid, cells


def _layout_and_grid(
    plan: _Plan, work: Workspace, commit: _Commit, early: _EarlyLayout | None, bar: Progress, timer: _Timer
) -> tuple[LayoutInfo, GridInfo, tuple[str, str]]:
    """The t-SNE layout and its grid, and their files: kept as they are when nothing that shapes them changed."""
    previous, s, n = plan.previous, plan.settings, commit.n
    grew = bool(commit.summary.new)
    if previous is not None and not grew and _same_map(previous.settings, s) and previous.layout.seed == s.seed:
        return previous.layout, previous.grid, (previous.files.layout, previous.files.grid)  # the map stays
    # With an early layout this step is only the wait for it (its own time is "layout (beside extract)").
    with timer.step("layout" if early is None else "layout (wait)"):
        if early is not None:
            xy = early.rows_for(commit.table.column("path").to_pylist())
        else:
            xy = _layout(plan, work, np.load(plan.out / feature_file(plan.default_set), mmap_mode="r")[:n], bar)
    with timer.step("grid"):
        kept = early.grid_for(commit.table.column("path").to_pylist()) if early is not None else None
        grid, cells = kept or _grid(xy, n, s.aspect, s.grid_method, s.seed, bar)
    checkpoint("grid")
    files = save_npy_named(plan.out, "layout", xy), save_npy_named(plan.out, "grid", cells)
    checkpoint("layout-and-grid-saved")
    return LayoutInfo(feature_set=plan.default_set, seed=s.seed), grid, files


def _same_map(old: ProjectSettings, new: ProjectSettings) -> bool:
    return old.aspect == new.aspect and old.grid_method == new.grid_method and old.layout_sample == new.layout_sample


def _layout(plan: _Plan, work: Workspace, feats: np.ndarray, bar: Progress) -> np.ndarray:
    """(n, 2) float32 t-SNE of ``feats`` ((n, D) rows of the default feature set, old images first),
    continuing the previous map where it can."""
    seed, default_set, n = plan.settings.seed, plan.default_set, len(feats)
    cached = work.folder / f"layout-{default_set}-{n}-{seed}.npy"
    if cached.exists():
        stored: np.ndarray = np.load(cached)
        return stored
    sample, previous = plan.settings.layout_sample, _previous_layout(plan, n)
    bar.note(_layout_note(n, default_set, sample, previous))
    # Threads only pay off for big sets; on small ones they were 20x slower here.
    jobs = (os.cpu_count() or 1) if n >= FFT_THRESHOLD else 1
    checkpoint("layout")
    xy = tsne_layout(feats, seed=seed, n_jobs=jobs, previous=previous, sample_above=sample)
    save_npy(cached, xy)
    checkpoint("layout-cached")
    return xy


def _previous_layout(plan: _Plan, n: int) -> np.ndarray | None:
    """The committed layout of the old images, when the new one can start from it."""
    previous = plan.previous
    if previous is None or previous.layout.feature_set != plan.default_set:
        return None
    if not 4 <= previous.n_images < n:
        return None
    old: np.ndarray = np.load(plan.out / previous.files.layout)
    return old[: previous.n_images].astype(np.float64)


def _layout_note(n: int, default_set: str, sample: int, previous: np.ndarray | None) -> str:
    """What the layout step is about to do, saying so when it takes the sampled route."""
    if not sample or n <= sample:
        return f"t-SNE layout of {n} images ({default_set}) ..."
    if previous is not None:
        return (f"layout of {n} images ({default_set}): the {len(previous)} already on the map stay where they are; each "
                f"new one goes to the mean position of its {INIT_NEIGHBOURS} nearest old images (past --layout-sample {sample}) ...")
    return (f"t-SNE layout of a random sample of {sample} of the {n} images ({default_set}); the other {n - sample} go to "
            f"the median position of their {INIT_NEIGHBOURS} nearest sampled images (--layout-sample {sample}; 0 = t-SNE of all) ...")


def _grid(xy: np.ndarray, n: int, aspect: float, method: str, seed: int, bar: Progress) -> tuple[GridInfo, np.ndarray]:
    """The grid's description and the (n, 2) int32 [row, col] cell of each image."""
    if method == "auto":
        method = gridmod.auto_method(n)
    shape = gridmod.grid_shape(n, aspect)
    bar.note(f"placing {n} images on a {shape[0]} x {shape[1]} grid ({method}) ...")
    cells = gridmod.gridify(xy, shape, method=method, seed=seed) if n else np.zeros((0, 2), np.int32)
    info = GridInfo.model_validate({
        "rows": shape[0], "cols": shape[1], "method": method,
        "displacement": float(gridmod.displacement(xy, cells, shape)) if n else 0.0,
        "neighbourhood_preservation_k10": (
            float(gridmod.neighbourhood_preservation(xy, cells, k=10, sample=GRID_QUALITY_SAMPLE, seed=seed)) if n > 10 else 1.0
        ),
    })
    return info, cells


def _tiles(plan: _Plan, n: int, grid_file: str, grid: GridInfo) -> TileInfo:
    """The map's tile pyramid for the grid in ``grid_file``, from the committed thumbnails."""
    thumbs = ThumbnailStore(plan.out / THUMBS_DIR, plan.sizes, n)
    previous = plan.previous.tiles if plan.previous else None
    return write_tiles(plan.out, n, grid_file, (grid.rows, grid.cols), thumbs, previous, plan.base_n)


def _manifest(
    plan: _Plan, source_root: str, n: int, files: ProjectFiles, feature_sets: dict[str, FeatureSet], layout: LayoutInfo,
    grid: GridInfo, tiles: TileInfo | None,
) -> Manifest:
    """The manifest of generation ``plan.generation + 1`` (the project's, or a first build's preview)."""
    now = Manifest.now()
    settings = plan.settings.project_settings()
    if settings.labels_csv is not None:  # stored as text JSON can hold, whatever bytes the name has
        settings = settings.model_copy(update={"labels_csv": Path(escape(str(settings.labels_csv.resolve())))})
    return Manifest(
        generation=plan.generation + 1,
        deepviz_version=__version__,
        created=plan.previous.created if plan.previous else now,
        updated=now,
        source_root=source_root,
        n_images=n,
        files=files,
        settings=settings,
        feature_sets=feature_sets,
        default_feature_set=plan.default_set,
        layout=layout,
        grid=grid,
        thumbnails=ThumbnailInfo(sizes=plan.sizes, quality=JPEG_QUALITY, decode_size=plan.decode_at),
        tiles=tiles,
    )


def _same_project(new: Manifest, old: Manifest) -> bool:
    """Whether ``new`` describes the same files and settings as ``old`` (a build that changed nothing)."""
    unchanged = {"generation": old.generation, "updated": old.updated, "deepviz_version": old.deepviz_version}
    return new.model_copy(update=unchanged) == old
