"""GET /api/figure: the page's "figure" export, drawn by the same code as `deepviz figure`.

The page sends what it shows (its image queries, their brushed windows, the feature set and the
axes); the answer is the file, as an attachment. The size a request may ask for is bounded so a
hostile request cannot make the server draw a gigapixel PNG.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from deepviz.errors import DeepvizError, MissingDependency
from deepviz.export.figure import FigureQuery, FigureStyle, parse_window, write_figure
from deepviz.server import models

MAX_QUERIES = 12
MEDIA = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}

figure_router = APIRouter(prefix="/api", responses={422: {"model": models.ErrorDetail}})


@figure_router.get(
    "/figure",
    response_class=Response,
    responses={200: {"content": {m: {} for m in MEDIA.values()}}, **{code: {"model": models.ErrorDetail} for code in (400, 404, 501, 503)}},
)
def get_figure(
    request: Request,
    q: Annotated[list[int], Query(description=f"Image ids of the queries, one figure row each (at most {MAX_QUERIES})")],
    w: Annotated[list[str] | None, Query(description="Brushed window START:STOP (stop exclusive) of each query, in order")] = None,
    fs: Annotated[str | None, Query(description="Feature set (default: the project's)")] = None,
    format: Literal["svg", "png", "pdf"] = "svg",
    log: bool = False,
    fitted: bool = True,
    width_in: Annotated[float, Query(ge=2, le=12)] = 7.0,
    dpi: Annotated[int, Query(ge=72, le=300)] = 300,
) -> Response:
    """The query panel as a figure: overlay with legend, then per query its image, curve with the window shaded, and strip."""
    state = request.app.state.deepviz.current()
    state.require_thumbnails()  # a figure draws each query's image and strip
    project = state.project
    if not 1 <= len(q) <= MAX_QUERIES:
        raise HTTPException(400, f"a figure holds 1 to {MAX_QUERIES} queries; {len(q)} were asked")
    windows = w or ["0:8"]
    if len(windows) not in (1, len(q)):
        raise HTTPException(400, f"{len(windows)} windows for {len(q)} queries: give one for all, or one per query")
    if any(not 0 <= i < project.n for i in q):
        raise HTTPException(404, f"the project has images 0..{project.n - 1}")
    if fs is not None and fs not in project.feature_sets:
        raise HTTPException(404, f"no feature set {fs!r}; the project has {', '.join(project.feature_sets)}")
    style = FigureStyle(width_in=width_in, dpi=dpi, log=log, fitted=fitted)
    try:
        spans = [parse_window(text, project.n) for text in (windows * len(q) if len(windows) == 1 else windows)]
        with tempfile.TemporaryDirectory(prefix="deepviz-figure-") as tmp:
            rows = [FigureQuery(i, a, b) for i, (a, b) in zip(q, spans)]
            out = write_figure(project, rows, Path(tmp) / f"figure.{format}", feature_set=fs, style=style)
            body = out.read_bytes()
    except MissingDependency as err:
        raise HTTPException(501, f"figures need matplotlib, which this server lacks; {err}") from None
    except DeepvizError as err:
        raise HTTPException(400, str(err)) from None
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", project.root.name.removesuffix(".deepviz")) or "deepviz"
    return Response(body, media_type=MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{name}-figure.{format}"'})
