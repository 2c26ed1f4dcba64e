"""A figure of the query panel for a paper: queries, their similarity curves with brushed windows, and strips.

Drawn with matplotlib, the plotting library of the field, because one drawing then writes SVG,
PDF and PNG alike; its SVG writes text as paths (``svg.fonttype = "path"``) so the fonts survive
on any machine. Curves are drawn as a min/max envelope per column of the printed width
(:mod:`deepviz.core.envelope`), so a figure of a million ranks stays a few hundred kB.

Layout, top to bottom: the overlay of every query's curve with a legend, then one row per query:
the query image, its curve with the brushed window shaded, and the strip of images in the window.
Each part carries an SVG id (``overlay``, ``legend``, ``query-0``, ``curve-0``, ``window-0``,
``strip-0``, ...) so a script or a test can find it.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from deepviz.core.envelope import envelope, x_to_position
from deepviz.core.similarity import rank
from deepviz.errors import MissingDependency, UsageError, pip_command
from deepviz.settings import FigureSettings
from deepviz.storage.project import Project

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# The page's query colours (web/src/colors.ts): Okabe & Ito, safe for common colour-vision deficiencies.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
DASHES: tuple[Any, ...] = ("-", (0, (6, 3)), (0, (2, 2)), (0, (8, 3, 2, 3)))
FORMATS = (".svg", ".png", ".pdf")
LOG_DEFAULT_ABOVE = 10_000  # the page's default too (web/src/rankScale.ts)
MAX_STRIP = 16  # images drawn per strip; a longer window is sampled evenly and each image says its rank


@dataclass(frozen=True)
class FigureQuery:
    """One row of the figure: image ``image_id`` as the query, ranks ``[start, stop)`` brushed."""

    image_id: int
    start: int
    stop: int


@dataclass(frozen=True)
class FigureStyle:
    """``width_in`` inches wide at ``dpi`` (PNG pixels = inches x dpi); ``log`` rank axis; ``fitted`` y."""

    width_in: float = 7.0
    dpi: int = 300
    log: bool = False
    fitted: bool = True
    strip: int = 8


def resolve_query(project: Project, spec: str) -> int:
    """An image id from ``spec``: an id (``149``) or a stored path (``cats/a.jpg``)."""
    if spec.strip().isdigit():
        image_id = int(spec)
        if image_id >= project.n:
            raise UsageError(f"--query {spec}: the project has images 0..{project.n - 1}")
        return image_id
    paths = project.images["path"].astype(str)
    hits = np.flatnonzero(paths.to_numpy() == spec.replace("\\", "/"))
    if len(hits) == 0:
        raise UsageError(f"--query {spec!r}: no image with that id or path; `deepviz info --list-files PROJECT` lists them")
    return int(hits[0])


def parse_window(spec: str, n: int) -> tuple[int, int]:
    """``"0:64"`` -> (0, 64), clamped to the ``n`` ranks; an empty or reversed window is an error."""
    try:
        a, b = (int(part) for part in spec.split(":"))
    except ValueError:
        raise UsageError(f"--window {spec!r}: write it as START:STOP, e.g. 0:64") from None
    start, stop = max(0, a), min(n, b)
    if stop <= start:
        raise UsageError(f"--window {spec!r}: holds no rank of the {n} images")
    return start, stop


def draw_from_settings(project: Project, settings: FigureSettings, out: Path) -> Path:
    """`deepviz figure`: resolve the queries and windows of ``settings`` and write the figure."""
    ids = [resolve_query(project, spec) for spec in settings.queries]
    specs = settings.windows or ("0:8",)
    if len(specs) not in (1, len(ids)):
        raise UsageError(f"{len(specs)} --window for {len(ids)} --query: give one window for all, or one per query")
    windows = [parse_window(spec, project.n) for spec in (specs * len(ids) if len(specs) == 1 else specs)]
    log = settings.log_ranks if settings.log_ranks is not None else project.n > LOG_DEFAULT_ABOVE
    style = FigureStyle(width_in=settings.width_in, dpi=settings.dpi, log=log, fitted=settings.fitted_y, strip=settings.strip)
    queries = [FigureQuery(q, a, b) for q, (a, b) in zip(ids, windows)]
    return write_figure(project, queries, out, feature_set=settings.feature_set, style=style)


def write_figure(
    project: Project, queries: list[FigureQuery], out: Path, *, feature_set: str | None = None, style: FigureStyle = FigureStyle()
) -> Path:
    """Draw ``queries`` of ``project`` and write the figure to ``out`` (.svg, .png or .pdf)."""
    if out.suffix.lower() not in FORMATS:
        raise UsageError(f"-o {out}: the figure is written as {', '.join(FORMATS)}; name the file with one of them")
    if not queries:
        raise UsageError("give at least one --query")
    figure_class = _figure_class()
    features = project.features(feature_set)
    ranked = [rank(features, np.asarray(features[q.image_id], dtype=np.float32)) for q in queries]
    curves = [sims for _, sims in ranked]
    row_in = max(0.9, style.width_in / 7.0)
    fig = figure_class(figsize=(style.width_in, 1.6 + row_in * len(queries)), dpi=style.dpi, layout="constrained")
    grid = fig.add_gridspec(1 + len(queries), 3, width_ratios=[1, 4, 7], height_ratios=[1.6] + [row_in] * len(queries))
    ylim = _y_limits(curves, style.fitted)
    overlay = fig.add_subplot(grid[0, 1])
    overlay.set_gid("overlay")
    for i, (q, (order, sims)) in enumerate(zip(queries, ranked)):
        _draw_curve(overlay, sims, i, style, label=_name(project, q.image_id))
        _query_row(fig, grid, project, i, q, sims, style, ylim)
        _strip(fig.add_subplot(grid[i + 1, 2]), project, i, q, order[q.start : q.stop], style)
    _axes(overlay, len(curves[0]), style, ylim, title=f"similarity to each query ({feature_set or project.default_feature_set})")
    key = fig.add_subplot(grid[0, 2])
    key.axis("off")
    handles, labels = overlay.get_legend_handles_labels()
    legend = key.legend(handles, labels, loc="center left", fontsize=6, frameon=False, title="queries", title_fontsize=6)
    legend.set_gid("legend")
    out.parent.mkdir(parents=True, exist_ok=True)
    with _svg_settings():
        fig.savefig(out, dpi=style.dpi, metadata=_metadata(out))
    return out


def _figure_class() -> Any:
    """matplotlib's Figure, used without pyplot: no global figure list, so a server may draw in threads."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependency(pip_command("matplotlib")) from None
    return Figure


def _svg_settings() -> Any:
    """Text as paths (fonts survive anywhere) and fixed SVG ids (the same figure is the same file)."""
    import matplotlib

    return matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "deepviz"})


def _metadata(out: Path) -> dict[str, Any]:
    # No creation date: the same figure of the same project is the same file.
    if out.suffix.lower() == ".svg":
        return {"Date": None, "Creator": "deepviz"}
    if out.suffix.lower() == ".pdf":
        return {"CreationDate": None, "Creator": "deepviz"}
    return {"Software": "deepviz"}


def _query_row(
    fig: Any, grid: Any, project: Project, i: int, q: FigureQuery, sims: NDArray[np.float32], style: FigureStyle, ylim: tuple[float, float]
) -> None:
    """Row ``i``: the query image framed in its colour, then its curve with the window shaded."""
    image = fig.add_subplot(grid[i + 1, 0])
    image.imshow(_thumb(project, q.image_id, style))
    image.set_gid(f"query-{i}")
    colour = _style(i)[0]
    image.set_xticks([])
    image.set_yticks([])
    for spine in image.spines.values():
        spine.set_edgecolor(colour)
        spine.set_linewidth(2.5)
    image.set_title(_name(project, q.image_id, width=14, sep="\n"), fontsize=5)
    curve = fig.add_subplot(grid[i + 1, 1])
    _draw_curve(curve, sims, i, style)
    shade = curve.axvspan(q.start, q.stop, facecolor=colour, alpha=0.25, edgecolor=colour, linewidth=0.6)
    shade.set_gid(f"window-{i}")
    _axes(curve, len(sims), style, ylim)


def _strip(ax: Axes, project: Project, i: int, q: FigureQuery, window: NDArray[np.int32], style: FigureStyle) -> None:
    """The images of ranks ``[q.start, q.stop)`` (``window``, in rank order), each above its rank."""
    ax.set_gid(f"strip-{i}")
    count = min(len(window), style.strip, MAX_STRIP)
    picks = np.unique(np.linspace(0, len(window) - 1, count).round().astype(int))
    tiles = [_thumb(project, int(window[k]), style) for k in picks]
    side = max(t.shape[0] for t in tiles)
    mosaic = np.full((side, side * len(tiles), 3), 255, dtype=np.uint8)
    for j, tile in enumerate(tiles):
        h, w = tile.shape[:2]
        mosaic[(side - h) // 2 : (side - h) // 2 + h, j * side + (side - w) // 2 : j * side + (side - w) // 2 + w] = tile
    ax.imshow(mosaic)
    ax.set_xticks([(j + 0.5) * side for j in range(len(tiles))], [str(q.start + int(k)) for k in picks], fontsize=5)
    ax.set_yticks([])
    ax.tick_params(length=0, pad=1)
    sampled = "" if len(picks) == q.stop - q.start else f", {len(picks)} of {q.stop - q.start} shown"
    ax.set_title(f"ranks {q.start}–{q.stop - 1}{sampled}", fontsize=6)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _thumb(project: Project, image_id: int, style: FigureStyle) -> NDArray[np.uint8]:
    from PIL import Image

    # The size that prints sharp: about 0.45 in per strip image at the figure's dpi.
    want = int(0.45 * style.dpi)
    size = min((s for s in project.thumbnail_sizes if s >= want), default=max(project.thumbnail_sizes))
    with Image.open(io.BytesIO(project.thumbnail(image_id, size))) as im:
        return np.asarray(im.convert("RGB"))


def _name(project: Project, image_id: int, width: int = 40, sep: str = " ") -> str:
    """The image's file name (shortened to ``width`` characters) and its label, as the page names a query."""
    path = str(project.images.at[image_id, "path"])
    label = project.images.at[image_id, "label"]
    name = path.rsplit("/", 1)[-1]
    name = name if len(name) <= width else name[: width - 1] + "…"
    return f"{name}{sep}({label})" if isinstance(label, str) and label else name


def _style(i: int) -> tuple[str, Any]:
    return OKABE_ITO[i % len(OKABE_ITO)], DASHES[(i // len(OKABE_ITO)) % len(DASHES)]


def _draw_curve(ax: Axes, sims: NDArray[np.float32], i: int, style: FigureStyle, label: str | None = None) -> None:
    """The curve as the page draws it (one point per rank, then a min/max pair per column) at ~2 columns per
    printed point, placed back on the rank axis: exact at print resolution, small at any N."""
    colour, dash = _style(i)
    columns = int(style.width_in * 72 * 2)
    points = envelope(sims, columns, style.log)
    x = [x_to_position(float(px), columns, len(sims), style.log) for px in points.x]
    (line,) = ax.plot(x, points.sims, color=colour, linestyle=dash, linewidth=1.0, label=label)
    line.set_gid(f"curve-{i}" if label is None else f"overlay-curve-{i}")


def _y_limits(curves: list[NDArray[np.float32]], fitted: bool) -> tuple[float, float]:
    if not fitted:
        return -1.0, 1.0
    lo = min(float(c[-1]) for c in curves)
    hi = max(float(c[0]) for c in curves)
    pad = 0.04 * max(hi - lo, 1e-3)
    return lo - pad, min(hi + pad, 1.0 + 1e-3)


def _axes(ax: Axes, n: int, style: FigureStyle, ylim: tuple[float, float], title: str | None = None) -> None:
    if style.log:
        ax.set_xscale("function", functions=(np.log1p, np.expm1))
    ax.set_xlim(0, n)
    ax.set_ylim(*ylim)
    ax.tick_params(labelsize=6, length=2, pad=1)
    ax.set_xlabel("rank (log)" if style.log else "rank", fontsize=6, labelpad=1)
    ax.set_ylabel("similarity", fontsize=6, labelpad=1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=7)
