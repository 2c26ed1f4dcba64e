"""Grids shaped like the page's map pane (/api/grid?aspect=): the same layout, a bijection onto cells,
the stored grid untouched, large projects computed in the background and kept on disk."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import deepviz
from deepviz.core.grid import grid_shape
from deepviz.server import fitted_grid
from deepviz.server.app import create_app
from deepviz.server.fitted_grid import ASPECTS, FittedGrids, snap_aspect
from tests.integration.test_api import N, local_client


@pytest.fixture(scope="module")
def client(tiny_project: Path) -> Iterator[TestClient]:
    with local_client(create_app(tiny_project)) as c:
        yield c


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _cells(content: bytes) -> np.ndarray:
    return np.frombuffer(content, "<i4").reshape(-1, 2)


def test_aspects_snap_in_log_scale_to_the_nearest_step() -> None:
    assert snap_aspect(1.0) == 1.0 and snap_aspect(0.52) == 0.5 and snap_aspect(1.25) == 1.189 and snap_aspect(1.35) == 1.414
    assert snap_aspect(100) == max(ASPECTS) and snap_aspect(0.001) == min(ASPECTS)
    with pytest.raises(ValueError, match="positive"):
        snap_aspect(float("nan"))


@pytest.mark.parametrize("asked", [0.33, 0.62, 1.0, 2.4, 4.0])
def test_a_fitted_grid_puts_every_image_in_its_own_cell_of_the_asked_shape(client: TestClient, asked: float) -> None:
    r = client.get(f"/api/grid?aspect={asked}")
    assert r.status_code == 200, r.text
    aspect = float(r.headers["x-grid-aspect"])
    rows, cols = int(r.headers["x-grid-rows"]), int(r.headers["x-grid-cols"])
    assert aspect == snap_aspect(asked) and (rows, cols) == grid_shape(N, aspect)
    cells = _cells(r.content)
    assert cells.shape == (N, 2) and len({tuple(c) for c in cells.tolist()}) == N
    assert cells[:, 0].min() >= 0 and cells[:, 0].max() < rows and cells[:, 1].min() >= 0 and cells[:, 1].max() < cols


def test_a_tall_grid_is_taller_than_wide_and_keeps_the_layout_order(client: TestClient, tiny_project: Path) -> None:
    """Images far apart in x stay apart in columns on a tall grid (it is the layout gridded, not the stored grid folded)."""
    r = client.get("/api/grid?aspect=0.5")
    rows, cols = int(r.headers["x-grid-rows"]), int(r.headers["x-grid-cols"])
    assert rows > cols
    xy = deepviz.open_project(tiny_project).layout
    cells = _cells(r.content)
    left, right = np.argsort(xy[:, 0])[:4], np.argsort(xy[:, 0])[-4:]
    assert cells[left, 1].mean() < cells[right, 1].mean()


def test_the_stored_grid_and_the_project_folder_stay_as_they_were(client: TestClient, tiny_project: Path) -> None:
    before = _digest(tiny_project)
    stored = client.get("/api/grid")
    for aspect in (0.4, 0.8, 1.7):
        assert client.get(f"/api/grid?aspect={aspect}").status_code == 200
    assert _digest(tiny_project) == before
    after = client.get("/api/grid")
    assert after.content == stored.content
    np.testing.assert_array_equal(_cells(after.content), deepviz.open_project(tiny_project).grid)
    assert after.headers["x-grid-rows"] == str(client.get("/api/project").json()["grid"]["rows"])


def test_the_project_tells_the_page_which_aspects_it_answers(client: TestClient) -> None:
    assert client.get("/api/project").json()["grid_aspects"] == list(ASPECTS)


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1e9"])
def test_a_bad_aspect_is_refused_with_the_rule(client: TestClient, bad: str) -> None:
    r = client.get(f"/api/grid?aspect={bad}")
    assert r.status_code == 422 and "aspect" in r.json()["detail"]


def test_a_large_project_grids_in_the_background_and_keeps_the_grid_on_disk(
    tiny_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fitted_grid, "SYNC_LIMIT", 0)  # every project counts as large
    project = deepviz.open_project(tiny_project)
    grids = FittedGrids(project, tmp_path)
    assert grids.get(0.5) is None  # computing
    deadline = time.monotonic() + 30
    while (found := grids.get(0.5)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found is not None and (found.rows, found.cols) == grid_shape(N, 0.5)
    saved = list(tmp_path.glob("*.npy"))
    assert len(saved) == 1 and Path(project.manifest.files.layout).stem in saved[0].name

    # A new server (say, after a restart) reads it back instead of gridding again.
    def no_gridding(*args: object, **kwargs: object) -> None:
        raise AssertionError("gridded again")

    monkeypatch.setattr(fitted_grid.gridmod, "gridify", no_gridding)
    again = FittedGrids(project, tmp_path).get(0.5)
    assert again is not None
    np.testing.assert_array_equal(again.cells, found.cells)


def test_the_page_is_answered_202_while_the_grid_is_computed(tiny_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fitted_grid, "SYNC_LIMIT", 0)
    with local_client(create_app(tiny_project)) as c:
        first = c.get("/api/grid?aspect=0.7")
        assert first.status_code == 202 and first.headers["retry-after"] == "1" and first.content == b""
        deadline = time.monotonic() + 30
        while (r := c.get("/api/grid?aspect=0.7")).status_code == 202 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert r.status_code == 200 and float(r.headers["x-grid-aspect"]) == snap_aspect(0.7)
