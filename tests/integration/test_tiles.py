"""The build's tile pyramid: tiles equal the thumbnails they mosaic, and follow the grid through incremental builds and re-grids."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

import deepviz
from deepviz.core.mosaic import BACKGROUND, CELL_PX, box_downsample, cells_per_tile, tile_counts
from deepviz.server.app import create_app
from deepviz.storage.manifest import Manifest
from deepviz.storage.project import Project
from tests.conftest import ColourExtractor, make_folder, write_image
from tests.integration.test_api import local_client


def _decoded(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).astype(np.int64)


def _expected_tile(p: Project, px: int, ty: int, tx: int) -> np.ndarray:
    """Tile (ty, tx) of level px computed independently: every image's smallest thumbnail, decoded and
    box-downsampled to the cell pixels then to px, at its cell of the stored grid."""
    rows, cols = p.grid_shape
    b = cells_per_tile(px)
    h, w = min(b, rows - ty * b), min(b, cols - tx * b)
    out = np.empty((h * px, w * px, 3), np.int64)
    out[:] = BACKGROUND
    size = min(p.thumbnail_sizes)
    for i, (r, c) in enumerate(np.asarray(p.grid).tolist()):
        r, c = r - ty * b, c - tx * b
        if 0 <= r < h and 0 <= c < w:
            thumb = _decoded(p.thumbnail(i, size)).astype(np.uint8)[None]
            out[r * px : (r + 1) * px, c * px : (c + 1) * px] = box_downsample(box_downsample(thumb, CELL_PX), px)[0]
    return out


def _assert_tiles_match(p: Project) -> None:
    assert p.tiles is not None
    rows, cols = p.grid_shape
    for px in p.tiles.info.levels:
        t_rows, t_cols = tile_counts(rows, cols, px)
        for ty in range(t_rows):
            for tx in range(t_cols):
                got = _decoded(p.tiles.get(px, ty, tx))
                want = _expected_tile(p, px, ty, tx)
                np.testing.assert_array_equal(got, want, err_msg=f"level {px} tile ({ty}, {tx})")


def test_tiles_equal_the_thumbnails_they_mosaic(tmp_path: Path) -> None:
    out = tmp_path / "proj"
    deepviz.build(make_folder(tmp_path / "images", per_class=7), out, models=[ColourExtractor()], progress=False)
    p = deepviz.open_project(out)
    assert p.tiles is not None and p.tiles.info.folder == f"tiles/{Path(p.manifest.files.grid).stem}"
    np.testing.assert_array_equal(
        p.tiles.pixels(p.n)[4], box_downsample(_decoded(p.thumbnail(4, min(p.thumbnail_sizes))).astype(np.uint8)[None], CELL_PX)[0]
    )
    _assert_tiles_match(p)


def test_tiles_follow_the_grid_through_an_incremental_build(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=5, with_broken=False)
    out = tmp_path / "proj"
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    before = deepviz.open_project(out)
    assert before.tiles is not None
    old_folder, old_pixels = before.tiles.info.folder, np.array(before.tiles.pixels(before.n))
    for k in range(4):
        write_image(root / "yellow" / f"late_{k}.png", (230, 230, 20))
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    after = deepviz.open_project(out)
    assert after.n == 19 and after.tiles is not None
    # A new grid, so new tiles in a new folder; the old grid's are gone, the old images' pixels kept.
    assert after.tiles.info.folder != old_folder and not (out / old_folder).exists()
    np.testing.assert_array_equal(after.tiles.pixels(after.n)[: before.n], old_pixels)
    _assert_tiles_match(after)
    # A build that changes nothing keeps the committed tiles as they are.
    stamp = (out / after.tiles.info.folder / "8.bin").stat().st_mtime_ns
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    assert (out / after.tiles.info.folder / "8.bin").stat().st_mtime_ns == stamp


def test_a_regrid_rewrites_the_tiles(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=5, with_broken=False)
    out = tmp_path / "proj"
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    old = deepviz.open_project(out)
    deepviz.build(root, out, models=[ColourExtractor()], aspect=0.5, progress=False)
    p = deepviz.open_project(out)
    assert p.grid_shape != old.grid_shape and p.tiles is not None and old.tiles is not None
    assert p.tiles.info.folder != old.tiles.info.folder
    _assert_tiles_match(p)


def _png(body: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(body))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB")).astype(np.int64)


def test_the_api_serves_the_stored_grids_tiles_cacheably(tiny_project: Path) -> None:
    p = deepviz.open_project(tiny_project)
    with local_client(create_app(tiny_project)) as client:
        info = client.get("/api/project").json()["tiles"]
        assert info["levels"] == [1, 2, 4, 8] and info["tile_px"] == 256
        r = client.get(f"/api/tiles/4/0/0?v={info['revision']}")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert "immutable" in r.headers["cache-control"]
        np.testing.assert_array_equal(_png(r.content), _expected_tile(p, 4, 0, 0))
        again = client.get("/api/tiles/4/0/0", headers={"if-none-match": r.headers["etag"]})
        assert again.status_code == 304 and again.headers["cache-control"] == "no-cache"
        for bad in ("/api/tiles/3/0/0", "/api/tiles/4/1/0", "/api/tiles/4/0/-1"):
            r = client.get(bad)
            assert r.status_code == 404 and ("level" in r.json()["detail"] or "outside" in r.json()["detail"])


def test_a_fitted_grids_tiles_mosaic_that_grid(tiny_project: Path) -> None:
    p = deepviz.open_project(tiny_project)
    with local_client(create_app(tiny_project)) as client:
        g = client.get("/api/grid?aspect=0.25")
        rows, cols = int(g.headers["x-grid-rows"]), int(g.headers["x-grid-cols"])
        assert (rows, cols) != p.grid_shape
        cells = np.frombuffer(g.content, "<i4").reshape(-1, 2)
        size = min(p.thumbnail_sizes)
        got = _png(client.get("/api/tiles/2/0/0?aspect=0.25").content)
        assert got.shape == (rows * 2, cols * 2, 3)  # the whole fitted grid fits one tile
        for i, (r, c) in enumerate(cells.tolist()):
            thumb = _decoded(p.thumbnail(i, size)).astype(np.uint8)[None]
            want = box_downsample(box_downsample(thumb, CELL_PX), 2)[0]
            np.testing.assert_array_equal(got[r * 2 : r * 2 + 2, c * 2 : c * 2 + 2], want)
        # Another aspect's tile differs: the ETag names the grid shown.
        other = client.get("/api/tiles/2/0/0?aspect=4")
        assert other.headers["etag"] != client.get("/api/tiles/2/0/0?aspect=0.25").headers["etag"]


def test_a_project_without_tiles_says_how_to_add_them(tmp_path: Path) -> None:
    out = tmp_path / "proj"
    deepviz.build(make_folder(tmp_path / "images", per_class=2, with_broken=False), out, models=[ColourExtractor()], progress=False)
    manifest = Manifest.read(out)
    manifest.model_copy(update={"tiles": None}).write(out)  # as an earlier deepviz wrote it
    with local_client(create_app(out)) as client:
        assert client.get("/api/project").json()["tiles"] is None
        r = client.get("/api/tiles/1/0/0")
        assert r.status_code == 404 and "deepviz build" in r.json()["detail"]
    deepviz.build(tmp_path / "images", out, models=[ColourExtractor()], progress=False)
    assert deepviz.open_project(out).tiles is not None  # the next build adds them, for every image
    _assert_tiles_match(deepviz.open_project(out))
