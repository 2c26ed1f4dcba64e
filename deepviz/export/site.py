"""A static site of a project: the built app and every file it reads, for any plain file server.

The page (deepviz/server/static) finds ``deepviz-site.json`` named in its index.html and reads
files instead of the HTTP API (web/src/staticApi.ts). Every URL is relative, so the site works
under a sub-path (GitHub Pages) and from ``python -m http.server``, which answers no Range
requests: nothing is read by byte range, files are cut to the size a view needs instead.

Layout of SITE/:

    index.html, assets/              the app, as `deepviz serve` serves it, plus a <meta> naming the config
    deepviz-site.json                :class:`SiteConfig`: which rankings, limits, sizes (written last)
    data/project.json                what /api/project answers (no aspects, uploads or text queries)
    data/grid.i32 labels.i32 colors.u8   what /api/grid, /api/labels, /api/colors answer
    data/images/{k}.json             /api/images/{id} for ids k*1024 .. k*1024+1023
    data/thumbs/{largest}/{id}.jpg   one thumbnail at the largest size (strips, query images, the
                                     hover card, and the map's largest cells: few on a screen)
    data/thumbs/{size}/t{r}_{c}.bin  every smaller size: the thumbnails of a TILE x TILE block of map
                                     cells (uint32 K, K int32 ids, K + 1 uint32 offsets, the JPEGs),
                                     so a screen of small cells is a few dozen files, not thousands
    browser rankings:     data/features.i8 (N, D) int8, data/scale.f32 (N,) float32 (quantise.py)
    precomputed rankings: data/rankings/{id}/order-{k}.i32, sims-{k}.f32, rank-{k}.i32 (CHUNK ranks
                          or ids each) and curve-lin.f32, curve-log.f32 (envelope at CURVE_WIDTH px:
                          K float32 x, then K float32 similarities)
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from deepviz._version import __version__
from deepviz.core.envelope import envelope
from deepviz.core.similarity import rank, ranks_of, spearman
from deepviz.errors import UsageError
from deepviz.export.figure import resolve_query
from deepviz.export.quantise import quantise, similarity_error_bound
from deepviz.settings import ExportSettings
from deepviz.storage.project import Project

CONFIG = "deepviz-site.json"
SITE_VERSION = 1
TILE = 16  # map cells per tile side: a tile is at most 256 thumbnails (~0.3 MB at 32 px)
CHUNK = 1 << 14  # ranks (or ids) per ranking file: 64 kB
IMAGES_CHUNK = 1024  # image records per JSON file
CURVE_WIDTH = 2048  # px of a precomputed curve's envelope; the chart stretches it to its width
STATIC_APP = Path(__file__).resolve().parents[1] / "server" / "static"
META = '<meta name="deepviz-site" content="{}">'

Mode = Literal["browser", "precomputed"]


@dataclass(frozen=True)
class SiteConfig:
    """What the page reads first (``deepviz-site.json``; web/src/staticApi.ts has the same fields)."""

    deepviz_site: int
    deepviz_version: str
    mode: Mode
    feature_set: str
    dim: int
    limit_mb: int
    features_mb: float
    similarity_error_bound: float | None
    queries: list[int]
    spearman: dict[str, float]
    tile: int = TILE
    chunk: int = CHUNK
    images_chunk: int = IMAGES_CHUNK
    curve_width: int = CURVE_WIDTH


@dataclass(frozen=True)
class SiteSummary:
    """What `deepviz export` prints: where, which rankings, how big."""

    out: Path
    config: SiteConfig
    n: int
    bytes: int
    files: int
    thumbnail_bytes: int = 0
    notes: list[str] = field(default_factory=list)


def features_mb(n: int, d: int) -> float:
    """MB the browser downloads and holds to rank: int8 rows and a float32 scale each."""
    return n * (d + 4) / 1e6


def choose_mode(n: int, d: int, settings: ExportSettings) -> Mode:
    """Browser ranking when the int8 features fit the limit (or it is asked), else precomputed."""
    size = features_mb(n, d)
    if settings.rankings == "browser" or (settings.rankings == "auto" and size <= settings.browser_limit_mb):
        return "browser"
    if not settings.queries and settings.rankings == "precomputed":
        raise UsageError("--rankings precomputed needs the images to rank: --queries ID (repeatable)")
    if not settings.queries:
        raise UsageError(
            f"{n:,} images of {d} dimensions make {size:,.0f} MB of int8 features, over --browser-limit-mb "
            f"{settings.browser_limit_mb}: name the images whose rankings to precompute with --queries ID "
            "(repeatable), or raise --browser-limit-mb"
        )
    return "precomputed"


def export_site(project: Project, settings: ExportSettings, out: Path) -> SiteSummary:
    """`deepviz export`: write the site into a new folder beside ``out``, then put it in ``out``'s place."""
    fs = settings.feature_set or project.default_feature_set
    if fs not in project.feature_sets:
        raise UsageError(f"--feature-set {fs!r}: this project has {', '.join(project.feature_sets)}")
    d = project.feature_info(fs).dim
    mode = choose_mode(project.n, d, settings)
    queries = sorted({resolve_query(project, q) for q in settings.queries}) if mode == "precomputed" else []
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        config = _write(project, tmp, fs, d, mode, queries, settings)
        summary = _summary(tmp, out, config, project.n)
        _replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary


def _check_out(out: Path) -> None:
    """Refuse a file, or a folder holding anything but a previous export (nothing the user made is lost)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: that is a file; name a new folder (or a previous export) for the site")
    if out.is_dir() and any(out.iterdir()) and not (out / CONFIG).is_file():
        raise UsageError(
            f"-o {out}: that folder holds files that are not a deepviz export ({CONFIG} is missing); "
            "name a new or empty folder, so nothing of yours is overwritten"
        )


def _replace(new: Path, out: Path) -> None:
    """Put ``new`` where ``out`` is: a reader sees the old site or the new one, never a mix.

    What the user added beside a previous export's own files (a CNAME or README for GitHub
    Pages) is moved into the new site, not deleted with the old one."""
    old = None
    if out.exists():
        for entry in out.iterdir():
            if not (new / entry.name).exists():
                os.replace(entry, new / entry.name)
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.replace(out, old / "site")
    os.replace(new, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write(project: Project, root: Path, fs: str, d: int, mode: Mode, queries: list[int], settings: ExportSettings) -> SiteConfig:
    data = root / "data"
    data.mkdir()
    _copy_app(root)
    (root / ".nojekyll").touch()  # GitHub Pages: serve the files as they are, without Jekyll's pass over them
    _write_json(data / "project.json", project_info(project, fs, d))
    _write_arrays(project, data)
    _write_images(project, data / "images")
    for size in project.thumbnail_sizes:
        write_thumbs(project, size, data / "thumbs" / str(size))
    bound: float | None = None
    rhos: dict[str, float] = {}
    if mode == "browser":
        bound = write_features(project.features(fs), data)
    else:
        rhos = write_rankings(project.features(fs), queries, data / "rankings")
    config = SiteConfig(
        deepviz_site=SITE_VERSION, deepviz_version=__version__, mode=mode, feature_set=fs, dim=d,
        limit_mb=settings.browser_limit_mb, features_mb=round(features_mb(project.n, d), 3),
        similarity_error_bound=bound, queries=queries, spearman=rhos,
    )
    _write_json(root / CONFIG, asdict(config))  # last: a folder without it is no finished export
    return config


def _copy_app(root: Path) -> None:
    """The built app, with index.html naming the config so the page knows it is a static site."""
    if not (STATIC_APP / "index.html").is_file():
        raise UsageError(f"the built app is missing from {STATIC_APP}; reinstall deepviz (or run npm run build in web/)")
    shutil.copytree(STATIC_APP, root, dirs_exist_ok=True)
    index = root / "index.html"
    html = index.read_text(encoding="utf-8")
    index.write_text(html.replace("<head>", "<head>\n    " + META.format(CONFIG), 1), encoding="utf-8")


def project_info(project: Project, fs: str, d: int) -> dict[str, object]:
    """What /api/project answers, for one feature set and none of the server's powers."""
    names, _ = label_codes(project)
    rows, cols = project.grid_shape
    return {
        "name": project.name, "n": project.n, "grid": {"rows": rows, "cols": cols}, "grid_aspects": [],
        "thumbnail_sizes": sorted(project.thumbnail_sizes), "feature_sets": [fs], "default_feature_set": fs,
        "feature_dims": {fs: d}, "labels": names, "can_embed": False, "text_feature_sets": [],
        "revision": project.revision, "building": None,
    }


def label_codes(project: Project) -> tuple[list[str], NDArray[np.int32]]:
    """(sorted unique label names, (N,) int32 code of each image's label, -1 = unlabelled), as the server's."""
    import pandas as pd

    codes, names = pd.factorize(project.images["label"], sort=True, use_na_sentinel=True)
    return [str(x) for x in names], np.asarray(codes, dtype=np.int32)


def _write_arrays(project: Project, data: Path) -> None:
    (data / "grid.i32").write_bytes(np.ascontiguousarray(project.grid, dtype="<i4").tobytes())
    (data / "labels.i32").write_bytes(label_codes(project)[1].astype("<i4").tobytes())
    (data / "colors.u8").write_bytes(np.ascontiguousarray(project.colors, dtype=np.uint8).tobytes())


def _write_images(project: Project, folder: Path) -> None:
    import pandas as pd

    folder.mkdir()
    table = project.images
    paths, labels = table["path"].astype(str).tolist(), table["label"].tolist()
    widths, heights = table["width"].astype(int).tolist(), table["height"].astype(int).tolist()
    for k, start in enumerate(range(0, project.n, IMAGES_CHUNK)):
        rows = [
            {"id": i, "path": paths[i], "label": None if pd.isna(labels[i]) else str(labels[i]), "width": widths[i], "height": heights[i]}
            for i in range(start, min(project.n, start + IMAGES_CHUNK))
        ]
        _write_json(folder / f"{k}.json", rows)


def tile_of(grid: NDArray[np.int32], cols: int) -> NDArray[np.int64]:
    """(N, 2) [row, col] -> (N,) tile number, row-major over tiles of TILE x TILE cells (the page's tileOf)."""
    tile_cols = -(-cols // TILE)
    return (grid[:, 0].astype(np.int64) // TILE) * tile_cols + grid[:, 1] // TILE


def write_thumbs(project: Project, size: int, folder: Path) -> None:
    """The largest size: one file per thumbnail (strips, query images and the hover card show it,
    scaled, and the map at its largest cells). Smaller sizes: one file per map tile, holding its
    cells' thumbnails back to back. So each thumbnail is stored once."""
    folder.mkdir(parents=True)
    if size == max(project.thumbnail_sizes):
        data, offsets = project.thumbnails.packed(size)
        for i in range(project.n):
            (folder / f"{i}.jpg").write_bytes(data[offsets[i] : offsets[i + 1]].tobytes())
        return
    _rows, cols = project.grid_shape
    tiles = tile_of(np.asarray(project.grid), cols)
    order = np.argsort(tiles, kind="stable")
    tile_cols = -(-cols // TILE)
    for ids in np.split(order, np.flatnonzero(np.diff(tiles[order])) + 1):
        if not len(ids):
            continue
        t = int(tiles[ids[0]])
        offs, blob = project.thumbnails.get_many(ids, size)
        head = np.concatenate([[len(ids)], ids, offs]).astype("<u4").tobytes()
        (folder / f"t{t // tile_cols}_{t % tile_cols}.bin").write_bytes(head + blob)


def write_features(features: NDArray[np.floating], data: Path) -> float:
    """data/features.i8 and data/scale.f32; returns the similarity error bound of the quantisation."""
    q, scale = quantise(features)
    (data / "features.i8").write_bytes(q.tobytes())
    (data / "scale.f32").write_bytes(scale.astype("<f4").tobytes())
    return similarity_error_bound(features, q, scale)


def write_rankings(features: NDArray[np.floating], queries: list[int], folder: Path) -> dict[str, float]:
    """Each query's ranking cut in CHUNK files, its curve's envelopes; returns the queries' pairwise
    Spearman rho keyed "a,b" (a < b), which the page cannot compute from the chunks it reads."""
    ranks: dict[int, NDArray[np.int32]] = {}
    for image_id in queries:
        order, sims = rank(features, np.asarray(features[image_id], dtype=np.float32))
        ranks[image_id] = ranks_of(order)
        _write_ranking(folder / str(image_id), order, sims, ranks[image_id])
    return {f"{a},{b}": spearman(ranks[a], ranks[b]) for a in queries for b in queries if a < b}


def _write_ranking(folder: Path, order: NDArray[np.int32], sims: NDArray[np.float32], rank_of: NDArray[np.int32]) -> None:
    folder.mkdir(parents=True)
    for k, start in enumerate(range(0, len(order), CHUNK)):
        stop = start + CHUNK
        (folder / f"order-{k}.i32").write_bytes(order[start:stop].astype("<i4").tobytes())
        (folder / f"sims-{k}.f32").write_bytes(sims[start:stop].astype("<f4").tobytes())
        (folder / f"rank-{k}.i32").write_bytes(rank_of[start:stop].astype("<i4").tobytes())
    for name, log in (("lin", False), ("log", True)):
        env = envelope(sims, CURVE_WIDTH, log)
        (folder / f"curve-{name}.f32").write_bytes(env.x.astype("<f4").tobytes() + env.sims.astype("<f4").tobytes())


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, separators=(",", ":")), encoding="utf-8")


def _summary(tmp: Path, out: Path, config: SiteConfig, n: int) -> SiteSummary:
    files = [p for p in tmp.rglob("*") if p.is_file()]
    thumbs = sum(p.stat().st_size for p in (tmp / "data" / "thumbs").rglob("*") if p.is_file())
    return SiteSummary(out=out, config=config, n=n, bytes=sum(p.stat().st_size for p in files), files=len(files), thumbnail_bytes=thumbs)


def describe(summary: SiteSummary) -> list[str]:
    """The lines `deepviz export` prints: mode, why, the limit, the size."""
    c = summary.config
    lines = [f"Wrote {summary.out}: {summary.bytes / 1e6:,.1f} MB in {summary.files:,} files "
             f"({summary.thumbnail_bytes / 1e6:,.1f} MB of thumbnails), {summary.n:,} images"]
    if c.mode == "browser":
        lines.append(
            f"Rankings: computed in the browser from {c.features_mb:,.1f} MB of int8 features "
            f"(limit --browser-limit-mb {c.limit_mb}); every image is a query; similarities within "
            f"±{c.similarity_error_bound:.4f} of the exact float32 ones"
        )
    else:
        lines.append(
            f"Rankings: precomputed for {len(c.queries)} quer{'y' if len(c.queries) == 1 else 'ies'} "
            f"({', '.join(map(str, c.queries[:10]))}{' ...' if len(c.queries) > 10 else ''}): the features "
            f"({c.features_mb:,.1f} MB as int8) are {'over' if c.features_mb > c.limit_mb else 'within'} "
            f"--browser-limit-mb {c.limit_mb}; other images are no queries; the page reads "
            f"{CHUNK * 4 // 1024} kB pieces of a ranking, never a whole one"
        )
    lines.append(f"Serve it with any file server, e.g.: python -m http.server -d {summary.out}")
    return lines
