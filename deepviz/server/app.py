"""The web app: one project's HTTP API (JSON and binary arrays) and the built front end, from an app factory."""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response as StarletteResponse
from starlette.types import Scope

from deepviz._version import __version__
from deepviz.core.envelope import envelope
from deepviz.core.normalize import ZeroFeatureError
from deepviz.core.similarity import spearman
from deepviz.errors import DeepvizError, UnknownName
from deepviz.features.base import Extractor
from deepviz.images.decode import DecodeLimits, ImageRejected
from deepviz.server import concepts_api, models, retrieval_api
from deepviz.server.batch import MAX_IDS, BadIdList, encode_batch, parse_ids
from deepviz.server.body_limit import BodyLimit
from deepviz.server.docs import add_docs
from deepviz.server.exposure import machine_names
from deepviz.server.figure import figure_router
from deepviz.server.fitted_grid import ASPECTS, FittedGrids, snap_aspect
from deepviz.server.guard import HostCheck, OriginCheck, host_names
from deepviz.server.headers import SecurityHeaders
from deepviz.server.map_tiles import MapTiles, NoTiles
from deepviz.server.ranking import Ranking, Rankings
from deepviz.server.text_query import TEXT_MARK, embed_text_query
from deepviz.server.uploads import (
    CannotEmbed,
    Embedders,
    Upload,
    UploadBusy,
    UploadFiles,
    Uploads,
    embed_upload,
    upload_key,
    upload_limits,
    upload_name,
)
from deepviz.settings import ServeSettings
from deepviz.storage.manifest import MANIFEST
from deepviz.storage.progress import preview_folder, read_progress
from deepviz.storage.project import Project, open_project, project_name

STATIC_DIR = Path(__file__).parent / "static"
BINARY = "application/octet-stream"
JPEG = "image/jpeg"
PNG = "image/png"
IMMUTABLE = "public, max-age=31536000, immutable"
INTERRUPTED = "interrupted: run the same deepviz build command again to resume it"
_MULTIPART_SLACK = 16 * 1024  # boundaries and part headers around the file in an upload body


@dataclass
class ServerState:
    """Everything the endpoints share: the project and what is derived from it once."""

    project: Project
    rankings: Rankings
    uploads: Uploads
    embedders: Embedders
    max_upload_bytes: int
    upload_files: UploadFiles | None = None
    upload_limits: DecodeLimits | None = None  # None: ServeSettings' defaults
    grids_dir: Path | None = None  # where grids fitted to a pane's aspect are kept; None: memory only
    preview: bool = False  # a first build's map before its thumbnails (pipeline/preview.py)

    @cached_property
    def revision(self) -> str:
        """Changes when the project is rebuilt from scratch (ids and thumbnails of an image never
        change otherwise), so a browser may cache thumbnails keyed by it for good."""
        return self.project.revision

    @cached_property
    def labels(self) -> tuple[list[str], np.ndarray]:
        """(sorted unique label names, (N,) int32 code of each image's label, -1 = unlabelled)."""
        import pandas as pd

        codes, names = pd.factorize(self.project.images["label"], sort=True, use_na_sentinel=True)
        return [str(x) for x in names], np.asarray(codes, dtype=np.int32)

    @cached_property
    def grid_bytes(self) -> bytes:
        return np.ascontiguousarray(self.project.grid, dtype="<i4").tobytes()

    @cached_property
    def fitted_grids(self) -> FittedGrids:
        return FittedGrids(self.project, self.grids_dir)

    @cached_property
    def map_tiles(self) -> MapTiles:
        return MapTiles(self.project, self.fitted_grids)

    @cached_property
    def tile_revision(self) -> str:
        """Changes whenever a tile may: a new grid, a new layout (which the fitted grids follow) or
        new images; with it in ``v`` a browser caches tiles for good."""
        files = self.project.manifest.files
        key = f"{self.revision}|{files.grid}|{files.layout}|{self.project.n}"
        return hashlib.sha1(key.encode()).hexdigest()[:12]

    @cached_property
    def colors_bytes(self) -> bytes:
        return np.ascontiguousarray(self.project.colors, dtype=np.uint8).tobytes()

    def require_thumbnails(self) -> None:
        """503 while this is a first build's preview: its thumbnails and colours are still being made."""
        if self.preview:
            raise HTTPException(503, "this project's thumbnails are still being made; they appear when its build finishes")

    def warm_up(self) -> None:
        """Load the default feature matrix and extractor now rather than on the first query."""
        default = self.project.default_feature_set
        self.rankings.warm_up(default)
        self.embedders.can_embed(default)


class LiveProject:
    """The project as served: one consistent snapshot, replaced when a build commits a new manifest.

    A build never changes a file the served manifest names in a way a reader could see (see
    storage/workspace.py), so the server keeps answering from the old snapshot while a build
    runs, and switches on the first request after the manifest's rename — checked at most every
    ``CHECK_SECONDS``, by the manifest's inode and mtime, which its atomic rename always changes.

    A project whose first build is still running has no snapshot until that build writes its
    preview (pipeline/preview.py: the map without thumbnails): until then only ``/api/project``
    answers (with the build's progress), everything else is 503. The preview is served, marked as
    such, only while the build that wrote it lives; the commit replaces it with the project.
    """

    CHECK_SECONDS = 0.5

    def __init__(self, root: Path, first: ServerState | None, make: Callable[[Project], ServerState]) -> None:
        self.root = root
        self._state = first
        self._make = make
        self._stamp = _stamp(root) if first is not None else (0, 0, 0)
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def current(self) -> ServerState:
        """The committed snapshot (or a first build's preview); 503 while there is neither."""
        state = self.snapshot()
        if state is None:
            raise HTTPException(503, "this project's first build is still running; the map appears when it finishes")
        return state

    def snapshot(self) -> ServerState | None:
        now = time.monotonic()
        # Until the first commit there is nothing to keep serving, so every request looks.
        if self._state is None or self._state.preview or now - self._checked >= self.CHECK_SECONDS:
            self._checked = now
            self._reload_if_committed()
        return self._state

    def building(self) -> models.BuildStatus | None:
        progress = read_progress(self.root)
        if progress is None:
            return None
        return models.BuildStatus(stage=progress.stage, done=progress.done, total=progress.total)

    def warm_up(self) -> None:
        if self._state is not None:
            self._state.warm_up()

    def _reload_if_committed(self) -> None:
        stamp = _stamp(self.root)
        if stamp == (0, 0, 0):
            self._show_preview()
            return
        if stamp == self._stamp:
            return
        with self._lock:  # one reload, however many requests notice it at once
            if stamp == self._stamp:
                return
            try:
                project = open_project(self.root)
            except DeepvizError:
                return  # e.g. the folder was replaced by something unreadable: keep serving what we have
            self._state, self._stamp = self._make(project), stamp

    def _show_preview(self) -> None:
        """No manifest yet: the live first build's preview, when it has one; nothing once that build is gone."""
        progress = read_progress(self.root)
        folder = preview_folder(self.root, progress) if progress is not None else None
        if folder is None:
            self._state = None  # a killed build's preview is never served
            return
        if self._state is not None and self._state.project.root == folder:
            return
        with self._lock:
            try:
                project = open_project(folder)
            except (DeepvizError, OSError):
                return  # being deleted by the commit: the next request finds the manifest
            state = self._make(project)
            state.preview = True
            self._state = state


def _stamp(root: Path) -> tuple[int, int, int]:
    try:
        st = (root / MANIFEST).stat()
    except OSError:
        return (0, 0, 0)
    return st.st_ino, st.st_mtime_ns, st.st_size


def create_app(
    project_path: str | os.PathLike[str] | Project,
    settings: ServeSettings | None = None,
    *,
    embedder: Extractor | None = None,
    static_dir: Path | None = None,
    uploads_dir: Path | None = None,
    grids_dir: Path | None = None,
    frame_ancestors: tuple[str, ...] = (),
) -> FastAPI:
    """The app serving the project at ``project_path``, configured by ``settings`` (limits, caches).

    ``embedder``          embeds uploaded images for the default feature set instead of the
                          registry extractor named in the manifest (tests inject a fake one)
    ``static_dir``        the built front end (default: the copy inside the package)
    ``uploads_dir``       where uploaded files are kept (a subfolder per project revision) so
                          upload queries in saved URLs survive a restart; None keeps them in memory only
    ``grids_dir``         where map grids fitted to the page's pane are kept across restarts
                          (see fitted_grid.py); None keeps them in memory only
    ``frame_ancestors``   CSP sources of pages that may frame the app (the notebook widget's); none by default
    """
    settings = settings or ServeSettings()
    if isinstance(project_path, Project):
        project: Project | None = project_path
        root = project_path.root
    else:
        root = Path(project_path)
        # A first build still running has no manifest yet: served as building, filled in at its commit.
        first_build = not (root / MANIFEST).exists() and read_progress(root) is not None
        project = None if first_build else open_project(root)
    uploads = Uploads(settings.keep_uploads)  # kept across reloads: an upload's vector stays valid

    def make(project: Project) -> ServerState:
        state = ServerState(
            project=project,
            rankings=Rankings(project, cache_bytes=settings.cache_bytes),
            uploads=uploads,
            embedders=Embedders(project, embedder),
            max_upload_bytes=settings.max_upload_bytes,
            upload_limits=upload_limits(settings),
            grids_dir=grids_dir,
        )
        if uploads_dir is not None:
            state.upload_files = UploadFiles(Path(uploads_dir) / state.revision)
        return state

    app = FastAPI(title="deepviz", version=__version__, openapi_url="/api/openapi.json", docs_url=None, redoc_url=None)
    app.state.deepviz = LiveProject(root, make(project) if project is not None else None, make)
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    _add_guards(app, settings, frame_ancestors)
    add_docs(app)  # before the router, whose catch-all under /api would take its paths
    app.include_router(router)
    _mount_front_end(app, Path(static_dir) if static_dir is not None else STATIC_DIR)
    return app


def _add_guards(app: FastAPI, settings: ServeSettings, frame_ancestors: tuple[str, ...] = ()) -> None:
    """What keeps the server private (see guard.py, headers.py, body_limit.py). Each added
    middleware wraps those added before it, so they run in the reverse order: headers on every
    answer (refusals included), then Host, then Origin, then the body limit."""
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_upload_bytes + _MULTIPART_SLACK, message=_too_big(settings.max_upload_bytes)
    )
    app.add_middleware(OriginCheck)
    names = host_names(settings.host, machine=machine_names() if settings.public else ())
    app.add_middleware(HostCheck, names=names, allowed=settings.allow_hosts)
    app.add_middleware(SecurityHeaders, frame_ancestors=frame_ancestors)


def openapi_schema() -> dict[str, Any]:
    """The API's OpenAPI document without opening a project; web/openapi.json and the
    front end's generated TypeScript types are made from it (a test checks they match)."""
    from fastapi.openapi.utils import get_openapi

    return get_openapi(title="deepviz", version=__version__, routes=router.routes)


def _state(request: Request) -> ServerState:
    live: LiveProject = request.app.state.deepviz
    return live.current()


State = Annotated[ServerState, Depends(_state)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": models.ErrorDetail} for code in codes}


def _binary(description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {BINARY: {}}, "description": description}}


router = APIRouter(prefix="/api", responses=_errors(422))

RANKING_DOC = (
    "X-Count little-endian int32 ids, most similar first (ties by lower id), then X-Count little-endian "
    "float32 similarities. With start/stop: ranks start..stop-1 only; X-Total is N, X-Start is start."
)
BATCH_DOC = (
    "Little-endian uint32 K (= X-Count), then K + 1 uint32 byte offsets starting at 0, then the K JPEGs back "
    "to back in the order asked: JPEG i is bytes 4(K+2)+offsets[i] .. 4(K+2)+offsets[i+1]-1 of the body."
)


@router.get("/project", response_model=models.ProjectInfo)
def get_project(request: Request) -> models.ProjectInfo:
    live: LiveProject = request.app.state.deepviz
    state, building = live.snapshot(), live.building()
    if state is None:
        return _unbuilt(live.root, building)
    p = state.project
    rows, cols = p.grid_shape
    return models.ProjectInfo(
        name=_name(live.root),
        n=p.n,
        grid=models.GridShape(rows=rows, cols=cols),
        # A preview is shown on its stored grid: fitting grids to the pane would take the build's CPU.
        grid_aspects=[] if state.preview else list(ASPECTS),
        thumbnail_sizes=sorted(p.thumbnail_sizes),
        feature_sets=p.feature_sets,
        default_feature_set=p.default_feature_set,
        feature_dims={s: p.feature_info(s).dim for s in p.feature_sets},
        labels=state.labels[0],
        can_embed=state.embedders.can_embed(p.default_feature_set),
        text_feature_sets=[s for s in p.feature_sets if state.embedders.can_embed_text(s)],
        revision=state.revision,
        tiles=_tile_pyramid(state),
        building=building,
        preview=state.preview,
    )


def _tile_pyramid(state: ServerState) -> models.TilePyramid | None:
    info = state.project.manifest.tiles
    if info is None:
        return None
    return models.TilePyramid(levels=list(info.levels), tile_px=info.tile_px, revision=state.tile_revision)


def _unbuilt(root: Path, building: models.BuildStatus | None) -> models.ProjectInfo:
    """A project whose first build has not committed: no images yet, and the build's progress."""
    return models.ProjectInfo(
        name=_name(root), n=0, grid=models.GridShape(rows=0, cols=0), grid_aspects=[], thumbnail_sizes=[], feature_sets=[],
        default_feature_set="", feature_dims={}, labels=[], can_embed=False, text_feature_sets=[], revision="",
        # No live build and no manifest: it was interrupted (a server started on such a folder refuses it).
        building=building or models.BuildStatus(stage=INTERRUPTED, done=0, total=0),
    )


def _name(root: Path) -> str:
    return project_name(root)


GRID_DOC = (
    "N x 2 little-endian int32 [row, col], in id order; X-Grid-Rows and X-Grid-Cols give the grid's shape. "
    "Without aspect: the grid the project stores. With aspect (width / height of the map pane): the same "
    "layout on a grid of that aspect snapped to a step of 2^(1/4) (X-Grid-Aspect); 202 with Retry-After "
    "while a large project's grid is being computed."
)


@router.get("/grid", response_class=Response, responses={**_binary(GRID_DOC), 202: {"description": "not ready yet"}})
def get_grid(state: State, aspect: Annotated[float | None, Query(gt=0, le=1000)] = None) -> Response:
    p = state.project
    if aspect is None:
        rows, cols = p.grid_shape
        headers = {"X-Count": str(p.n), "X-Grid-Rows": str(rows), "X-Grid-Cols": str(cols)}
        return Response(state.grid_bytes, media_type=BINARY, headers=headers)
    if state.preview:
        raise HTTPException(503, "a project still building is shown on its stored grid; ask without aspect")
    try:
        fitted = state.fitted_grids.get(aspect)
    except RuntimeError as err:
        raise HTTPException(500, f"{err}; the map keeps the project's stored grid") from None
    if fitted is None:
        return Response(status_code=202, headers={"Retry-After": "1", "X-Grid-Aspect": str(snap_aspect(aspect))})
    headers = {"X-Count": str(p.n), "X-Grid-Rows": str(fitted.rows), "X-Grid-Cols": str(fitted.cols), "X-Grid-Aspect": str(fitted.aspect)}
    return Response(fitted.to_bytes(), media_type=BINARY, headers=headers)


@router.get("/labels", response_class=Response, responses=_binary("N little-endian int32 label codes, -1 = none"))
def get_labels(state: State) -> Response:
    codes = np.ascontiguousarray(state.labels[1], dtype="<i4")
    return Response(codes.tobytes(), media_type=BINARY, headers={"X-Count": str(len(codes))})


@router.get("/colors", response_class=Response, responses=_binary("N x 3 uint8 mean RGB of each image's centre crop, in id order"))
def get_colors(state: State) -> Response:
    """One colour per image: the map draws its zoomed-out overview from these instead of thumbnails."""
    state.require_thumbnails()
    return Response(state.colors_bytes, media_type=BINARY, headers={"X-Count": str(state.project.n)})


@router.get("/images/{image_id}", response_model=models.ImageInfo, responses=_errors(404))
def get_image(image_id: int, state: State) -> models.ImageInfo:
    import pandas as pd

    _check_id(state, image_id)
    row = state.project.images.iloc[image_id]
    label = row["label"]
    return models.ImageInfo(
        id=image_id,
        path=str(row["path"]),
        label=None if pd.isna(label) else str(label),
        width=int(row["width"]),
        height=int(row["height"]),
    )


# Declared before /thumbs/{size}/{image_id}, which would otherwise take "batch" for an id.
@router.get("/thumbs/{size}/batch", response_class=Response, responses={**_binary(BATCH_DOC), **_errors(400, 404)})
def get_thumbs_batch(
    size: int,
    state: State,
    ids: Annotated[
        str,
        Query(
            description=f"Comma-separated image ids and inclusive ranges, in the order wanted, repeats allowed "
            f"(e.g. 7,3,10-12); at most {MAX_IDS} ids",
        ),
    ],
    v: str | None = None,
) -> Response:
    """Many thumbnails of one size in one answer, for the map: one request per screenful of
    cells instead of one per cell. Cached for good when ``v`` is the project's revision."""
    _check_size(state, size)
    try:
        wanted = parse_ids(ids)
    except BadIdList as err:
        raise HTTPException(400, str(err)) from None
    try:
        offsets, jpegs = state.project.thumbnails.get_many(wanted, size)
    except IndexError as err:
        raise HTTPException(404, str(err)) from None
    headers = {"X-Count": str(len(wanted)), "Cache-Control": IMMUTABLE if v == state.revision else "no-cache"}
    return Response(encode_batch(offsets, jpegs), media_type=BINARY, headers=headers)


@router.get(
    "/thumbs/{size}/{image_id}",
    response_class=Response,
    responses={200: {"content": {JPEG: {}}}, **_errors(404)},
)
def get_thumb(size: int, image_id: int, state: State, request: Request, v: str | None = None) -> Response:
    """JPEG centre crop. Cached for good when ``v`` is the project's revision, else revalidated by ETag."""
    _check_id(state, image_id)
    _check_size(state, size)
    etag = f'"{state.revision}-{size}-{image_id}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE if v == state.revision else "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(state.project.thumbnails.get(image_id, size), media_type=JPEG, headers=headers)


HideDuplicates = Annotated[
    float | None,
    Query(
        ge=0.5,
        le=1.0,
        description="Leave near-duplicates out of the ranking: of each group /api/duplicates finds at this similarity, "
        "every image but its first (lowest id). Ranks then count only the images kept; X-Total says how many.",
    ),
]


TILE_DOC = (
    "PNG tile (ty, tx) of the map at PX pixels per cell (a level of ProjectInfo.tiles): cells "
    "[ty*B, ty*B+B) x [tx*B, tx*B+B) of the grid, B = tile_px / PX, each image's smallest thumbnail "
    "box-downsampled to PX, empty cells in the page's background; edge tiles are cut to the grid. "
    "Without aspect: the stored grid's; with aspect: the grid /api/grid?aspect= answers (202 while it "
    "is computed). Cached for good when v is ProjectInfo.tiles.revision, else revalidated by ETag."
)


@router.get(
    "/tiles/{px}/{ty}/{tx}", response_class=Response,
    responses={200: {"content": {PNG: {}}, "description": TILE_DOC}, 202: {"description": "not ready yet"}, **_errors(404)},
)
def get_tile(
    px: int, ty: int, tx: int, state: State, request: Request,
    aspect: Annotated[float | None, Query(gt=0, le=1000)] = None, v: str | None = None,
) -> Response:
    """A tile of the zoomed-out map: real pixels of every image, a few per cell."""
    shown = "stored" if aspect is None else f"{snap_aspect(aspect):.3f}"
    etag = f'"{state.tile_revision}-{shown}-{px}-{ty}-{tx}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE if v == state.tile_revision else "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    try:
        png = state.map_tiles.get(aspect, px, ty, tx)
    except (NoTiles, UnknownName, IndexError) as err:
        raise HTTPException(404, str(err)) from None
    if png is None:
        return Response(status_code=202, headers={"Retry-After": "1"})
    return Response(png, media_type=PNG, headers=headers)


@router.get("/rank/upload/{query}", response_class=Response, responses={**_binary(RANKING_DOC), **_errors(400, 404, 409)})
def rank_upload(
    query: str,
    state: State,
    features: str | None = None,
    start: int = 0,
    stop: int | None = None,
    hide_duplicates: HideDuplicates = None,
) -> Response:
    upload = _upload(state, query)
    name = _feature_set(state, features)
    if upload.feature_set != name:
        raise HTTPException(
            409,
            f"query {query} was embedded in feature set {upload.feature_set!r}; upload the image again "
            f"with ?features={name} to rank it in {name!r}",
        )
    ranking = state.rankings.for_vector(name, upload.key, upload.vector)
    return _ranking_response(_hiding(state, name, upload.key, ranking, hide_duplicates), start, stop)


@router.get("/rank/{image_id}", response_class=Response, responses={**_binary(RANKING_DOC), **_errors(400, 404)})
def rank_image(
    image_id: int,
    state: State,
    features: str | None = None,
    start: int = 0,
    stop: int | None = None,
    hide_duplicates: HideDuplicates = None,
) -> Response:
    _check_id(state, image_id)
    name = _feature_set(state, features)
    return _ranking_response(_hiding(state, name, image_id, state.rankings.for_image(name, image_id), hide_duplicates), start, stop)


QUERY_REF = "the query: an image id (12), or upload:KEY for an uploaded image"
CURVE_DOC = (
    "The curve as a chart WIDTH px wide draws it (deepviz.core.envelope): X-Count K, then K little-endian float32 x "
    "(px from the plot's left edge), then K float32 similarities. Head ranks a pixel or more apart are one point each; "
    "then each pixel column is two points at its x: the max then the min of its ranks. X-Total is N."
)
PICKED_DOC = (
    "X-Count K, then K little-endian int32, then K float32: for /ranking/at the ids at the ranks asked, for "
    "/ranking/of the ranks of the ids asked; the float32 are the similarities of those images, in the order asked. "
    "With hide_duplicates, an id left out has rank -1 and similarity NaN."
)


def _ranking_of(state: ServerState, ref: str, features: str | None, hide: float | None = None) -> Ranking:
    """The ranking of query ``ref`` (an image id, or upload:KEY) in feature set ``features``, near-duplicates
    at similarity ``hide`` left out when it is given."""
    name = _feature_set(state, features)
    if ref.startswith("upload:"):
        upload = _upload(state, ref.removeprefix("upload:"))
        if upload.feature_set != name:
            raise HTTPException(
                409, f"query {ref} was embedded in feature set {upload.feature_set!r}; upload it again with ?features={name}"
            )
        return _hiding(state, name, upload.key, state.rankings.for_vector(name, upload.key, upload.vector), hide)
    if not (ref.isascii() and ref.isdigit()):
        raise HTTPException(400, f"cannot read query {ref!r}; send an image id like q=12, or q=upload:KEY")
    _check_id(state, int(ref))
    return _hiding(state, name, int(ref), state.rankings.for_image(name, int(ref)), hide)


def _hiding(state: ServerState, feature_set: str, key: int | str, ranking: Ranking, hide: float | None) -> Ranking:
    return ranking if hide is None else state.rankings.hiding_duplicates(feature_set, key, ranking, hide)


def _picked(ints: np.ndarray, sims: np.ndarray) -> Response:
    body = np.ascontiguousarray(ints, dtype="<i4").tobytes() + np.ascontiguousarray(sims, dtype="<f4").tobytes()
    return Response(body, media_type=BINARY, headers={"X-Count": str(len(ints))})


def _parse(text: str, what: str, n: int) -> np.ndarray:
    try:
        values = parse_ids(text)
    except BadIdList as err:
        raise HTTPException(400, str(err).replace("ids", what)) from None
    if len(values) and values.max() >= n:
        raise HTTPException(404, f"{what} {int(values.max())} is out of range; this ranking has 0..{n - 1}")
    return values


@router.get("/ranking/curve", response_class=Response, responses={**_binary(CURVE_DOC), **_errors(400, 404, 409)})
def ranking_curve(
    state: State,
    q: Annotated[str, Query(description=QUERY_REF)],
    width: Annotated[int, Query(ge=1, le=16384, description="the plot's width in px")],
    log: bool = False,
    features: str | None = None,
    hide_duplicates: HideDuplicates = None,
) -> Response:
    ranking = _ranking_of(state, q, features, hide_duplicates)
    env = envelope(ranking.sims, width, log)
    body = np.ascontiguousarray(env.x, dtype="<f4").tobytes() + np.ascontiguousarray(env.sims, dtype="<f4").tobytes()
    return Response(body, media_type=BINARY, headers={"X-Count": str(len(env.x)), "X-Total": str(len(ranking.order))})


@router.get("/ranking/at", response_class=Response, responses={**_binary(PICKED_DOC), **_errors(400, 404, 409)})
def ranking_at(
    state: State,
    q: Annotated[str, Query(description=QUERY_REF)],
    ranks: Annotated[str, Query(description=f"ranks and ranges, e.g. 0-63,1000; at most {MAX_IDS}")],
    features: str | None = None,
    hide_duplicates: HideDuplicates = None,
) -> Response:
    ranking = _ranking_of(state, q, features, hide_duplicates)
    at = _parse(ranks, "ranks", len(ranking.order))
    return _picked(ranking.order[at], ranking.sims[at])


@router.get("/ranking/of", response_class=Response, responses={**_binary(PICKED_DOC), **_errors(400, 404, 409)})
def ranking_of(
    state: State,
    q: Annotated[str, Query(description=QUERY_REF)],
    ids: Annotated[str, Query(description=f"image ids and ranges, e.g. 7,3,10-12; at most {MAX_IDS}")],
    features: str | None = None,
    hide_duplicates: HideDuplicates = None,
) -> Response:
    ranking = _ranking_of(state, q, features, hide_duplicates)
    where = ranking.ranks[_parse(ids, "ids", ranking.id_count)]
    kept = where >= 0  # an id left out (hide_duplicates) has rank -1 and no similarity
    return _picked(where, np.where(kept, ranking.sims[np.where(kept, where, 0)], np.float32(np.nan)))


@router.get("/ranking/spearman", response_model=models.RankCorrelation, responses=_errors(400, 404, 409))
def ranking_spearman(
    state: State,
    a: Annotated[str, Query(description=QUERY_REF)],
    b: Annotated[str, Query(description=QUERY_REF)],
    features: str | None = None,
    hide_duplicates: HideDuplicates = None,
) -> models.RankCorrelation:
    ra, rb = _ranking_of(state, a, features, hide_duplicates), _ranking_of(state, b, features, hide_duplicates)
    kept = ra.ranks >= 0  # the same ids are left out of both
    return models.RankCorrelation(rho=spearman(ra.ranks[kept], rb.ranks[kept]), n=len(ra.order))


@router.post("/queries/upload", response_model=models.UploadedQuery, responses=_errors(400, 404, 409, 413, 415, 503))
def upload_query(
    state: State,
    file: Annotated[UploadFile, File(description="An image file (JPEG, PNG, ...)")],
    features: str | None = None,
) -> models.UploadedQuery:
    """Embed an image that is not in the project, with the build's centre crop, as a new query."""
    name = _feature_set(state, features)
    data = file.file.read(state.max_upload_bytes + 1)
    if len(data) > state.max_upload_bytes:
        raise HTTPException(413, _too_big(state.max_upload_bytes))
    try:
        extractor = state.embedders.get(name)
    except CannotEmbed as err:
        raise HTTPException(err.status, err.message) from None
    try:
        vector, thumb, width, height = _embed(state, data, extractor)
    except ImageRejected as err:
        what = file.filename or "the upload"
        if err.over_limit:  # a fine image over a limit of this server: 413, with the limit and the flag that raises it
            raise HTTPException(413, f"{what} is over this server's upload limit: {err.reason}") from None
        raise HTTPException(415, f"{what} is not a usable image ({err.reason}); upload a JPEG, PNG or WebP file") from None
    except UploadBusy as err:
        raise HTTPException(err.status, err.message, headers={"Retry-After": "5"}) from None
    except ZeroFeatureError:
        raise HTTPException(
            422, "the extractor gives all-zero features for this image, so it has no similarities; try another image"
        ) from None
    key = upload_key(name, data)
    shown = upload_name(file.filename)
    query = state.uploads.add(key, name, vector, thumb, width, height, shown)
    if state.upload_files is not None:
        state.upload_files.save(key, name, data, shown)
    return _uploaded(query)


def _uploaded(query: Upload) -> models.UploadedQuery:
    return models.UploadedQuery(
        query=query.key, width=query.width, height=query.height, feature_set=query.feature_set, name=query.name
    )


@router.get("/queries/{query}/info", response_model=models.UploadedQuery, responses=_errors(404))
def get_query_info(query: str, state: State) -> models.UploadedQuery:
    """An uploaded query's name, size and feature set (the page names its row by it after a reload)."""
    return _uploaded(_upload(state, query))


@router.post("/queries/text", response_model=models.TextQueryAnswer, responses=_errors(400, 404, 409))
def text_query(state: State, body: models.TextQuery, features: str | None = None) -> models.TextQueryAnswer:
    """Embed words with the feature set's text tower (CLIP-like models) as a new query, ranked like an upload."""
    name = _feature_set(state, features)
    data = TEXT_MARK + body.text.encode()
    key = upload_key(name, data)
    _add_text(state, key, name, body.text)
    if state.upload_files is not None:
        state.upload_files.save(key, name, data, _text_name(body.text))
    return models.TextQueryAnswer(query=key, feature_set=name)


def _add_text(state: ServerState, key: str, feature_set: str, text: str) -> Upload:
    try:
        vector, thumb = embed_text_query(text, state.embedders.text(feature_set))
    except CannotEmbed as err:
        raise HTTPException(err.status, err.message) from None
    except ZeroFeatureError:
        raise HTTPException(422, "the model gives an all-zero embedding for this text; try other words") from None
    return state.uploads.add(key, feature_set, vector, thumb, 0, 0, _text_name(text))


def _text_name(text: str) -> str:
    """How the page names a text query's row: the words, quoted (shortened past 100 characters)."""
    words = " ".join(text.split())
    return f"“{words if len(words) <= 100 else words[:99] + '…'}”"


@router.get("/queries/{query}/thumb", response_class=Response, responses={200: {"content": {JPEG: {}}}, **_errors(404)})
def get_query_thumb(query: str, state: State) -> Response:
    """The uploaded image's centre crop at 128 px (its key is never reused, so it is cached for good)."""
    return Response(_upload(state, query).thumb, media_type=JPEG, headers={"Cache-Control": IMMUTABLE})


# Added route by route (an included router is one opaque route, which the catch-all's 405 check cannot
# see into), and before the catch-all below, which would take their paths.
router.routes.extend(concepts_api.router.routes)
router.routes.extend(retrieval_api.router.routes)
router.routes.extend(figure_router.routes)


# Every method a request to a path can carry (RFC 9110's, less CONNECT, plus QUERY): one left out here
# fell through to the front end, which answered 404 "no file /api/..." for an endpoint that exists.
@router.api_route(
    "/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY"], include_in_schema=False
)
def no_such_endpoint(rest: str, request: Request) -> None:
    """404 for a path no endpoint has; 405 with Allow for a method an existing endpoint lacks (this
    route, matching every path and method, would otherwise answer 404 for both)."""
    path = request.url.path
    # This module's router and the app's own routes (the docs): FastAPI may keep an included router
    # as one opaque route, so the app's route list alone does not show the endpoints.
    routes = [r for r in [*router.routes, *request.app.router.routes] if isinstance(r, APIRoute)]
    allowed = sorted({m for r in routes if r.endpoint is not no_such_endpoint and r.path_regex.match(path) for m in r.methods or ()})
    if allowed:
        raise HTTPException(
            405, f"{request.method} is not allowed on {path}; it answers {', '.join(allowed)}", headers={"Allow": ", ".join(allowed)}
        )
    raise HTTPException(404, f"no API endpoint /api/{rest}; the endpoints are listed at /api/docs")


def _check_id(state: ServerState, image_id: int) -> None:
    n = state.project.n
    if not 0 <= image_id < n:
        raise HTTPException(404, f"image id {image_id} is out of range; this project has ids 0..{n - 1}")


def _check_size(state: ServerState, size: int) -> None:
    state.require_thumbnails()
    sizes = sorted(state.project.thumbnail_sizes)
    if size not in sizes:
        raise HTTPException(404, f"no {size}px thumbnails in this project; its sizes are {sizes}")


def _feature_set(state: ServerState, name: str | None) -> str:
    sets = state.project.feature_sets
    if name is None:
        return state.project.default_feature_set
    if name not in sets:
        raise HTTPException(404, f"no feature set {name!r} in this project; use one of {sets}")
    return name


def _embed(state: ServerState, data: bytes, extractor: Extractor) -> tuple[np.ndarray, bytes, int, int]:
    decode_at = state.project.manifest.thumbnails.decode_size
    return embed_upload(data, extractor, state.project.thumbnail_sizes, decode_at, state.upload_limits)


def _upload(state: ServerState, key: str) -> Upload:
    """Upload ``key`` from memory, or embedded again from its kept file (after a restart)."""
    found = state.uploads.get(key)
    if found is not None:
        return found
    kept = state.upload_files.load(key) if state.upload_files is not None else None
    if kept is None or kept[0] not in state.project.feature_sets:
        held = "" if state.upload_files is not None else f" (it holds the last {state.uploads.keep}: deepviz serve --keep-uploads N)"
        raise HTTPException(404, f"no uploaded query {key!r} on this server{held}; upload the image again")
    feature_set, data = kept
    if data.startswith(TEXT_MARK):
        return _add_text(state, key, feature_set, data[len(TEXT_MARK) :].decode())
    try:
        vector, thumb, width, height = _embed(state, data, state.embedders.get(feature_set))
    except CannotEmbed as err:
        raise HTTPException(err.status, err.message) from None
    name = state.upload_files.load_name(key) if state.upload_files is not None else ""
    return state.uploads.add(key, feature_set, vector, thumb, width, height, name)


def _ranking_response(ranking: Ranking, start: int, stop: int | None) -> Response:
    n = len(ranking.order)
    end = n if stop is None else stop
    if not 0 <= start <= end <= n:
        raise HTTPException(400, f"ranks start={start}, stop={end} are out of range; need 0 <= start <= stop <= {n}")
    headers = {"X-Count": str(end - start), "X-Total": str(n), "X-Start": str(start)}
    return Response(ranking.to_bytes(start, end), media_type=BINARY, headers=headers)


def _too_big(limit: int) -> str:
    shown = f"{limit / 1e6:g} MB" if limit >= 1_000_000 else f"{limit:,} bytes"
    return (
        f"the upload is larger than this server's {shown} limit; upload a smaller image (or a resized copy), "
        f"or restart the server with a higher limit in bytes: deepviz serve PROJECT --max-upload-bytes {max(2 * limit, 50_000_000)}"
    )


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 body is a list of dicts; the contract promises one message in ``detail``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("path", "query", "body"))
        got = error.get("input")
        shown = f" (got {got!r})" if isinstance(got, (str, int, float)) else ""
        parts.append(f"{where}: {error.get('msg', 'invalid')}{shown}")
    return JSONResponse({"detail": "; ".join(parts) + "; see /api/docs for the expected parameters"}, status_code=422)


class _FrontEnd(StaticFiles):
    """The built front end; a method other than GET or HEAD answers 405 on a file that exists and 404
    elsewhere, as the API does (Starlette answers 405 for every path)."""

    async def get_response(self, path: str, scope: Scope) -> StarletteResponse:
        if scope["method"] not in ("GET", "HEAD"):
            try:
                _, found = self.lookup_path(path)
            except (OSError, ValueError):
                found = None
            if found is None:
                raise HTTPException(404, f"no file /{path} here; the app is at /")
            raise HTTPException(405, f"{scope['method']} is not allowed on /{path}; it answers GET, HEAD", headers={"Allow": "GET, HEAD"})
        return await super().get_response(path, scope)


def _mount_front_end(app: FastAPI, folder: Path) -> None:
    """The built front end at ``/``, mounted last so that it never shadows the API."""
    if (folder / "index.html").is_file():
        app.mount("/", _FrontEnd(directory=folder, html=True), name="front-end")
        return
    page = (
        "<!doctype html><meta charset=utf-8><title>deepviz</title>"
        "<h1>The deepviz front end is not built</h1>"
        f"<p>No index.html in <code>{folder}</code>. From a source checkout, build it with "
        "<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>"
        "<p>The API works meanwhile: <a href=api/docs>api/docs</a>."
    )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def front_end_not_built() -> str:
        return page
