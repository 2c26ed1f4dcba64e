"""A project whose build is running is served as building, with its progress, never as finished;
the map fills in when the build commits (a first build), or switches (a rebuild). A first build
with imported features is served as a preview (its map, no thumbnails) while it goes on."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import deepviz
from deepviz.server.app import INTERRUPTED, LiveProject, create_app
from deepviz.storage.progress import read_progress
from tests.conftest import ColourExtractor, make_folder


class HeldExtractor(ColourExtractor):
    """Embeds the first ``free`` images, then waits for ``release`` (the test looks at the server meanwhile)."""

    def __init__(self, free: int) -> None:
        super().__init__()
        self.free = free
        self.held = threading.Event()
        self.release = threading.Event()

    def embed(self, crops: np.ndarray) -> np.ndarray:
        if self.images_seen >= self.free:
            self.held.set()
            assert self.release.wait(60), "the test never released the build"
        return super().embed(crops)


def _start_build(
    images: Path, out: Path, model: ColourExtractor, **settings: object
) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            deepviz.build(images, out, models=[model], chunk_size=4, batch_size=4, progress=False, **settings)
        except BaseException as err:  # reported by the test
            errors.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def test_a_first_build_is_served_as_building_with_progress_then_fills_in(tmp_path: Path) -> None:
    images = make_folder(tmp_path / "images", per_class=4, with_broken=False)  # 12 images: 3 chunks of 4
    out = tmp_path / "p.deepviz"
    model = HeldExtractor(free=4)
    thread, errors = _start_build(images, out, model)
    assert model.held.wait(60)
    with TestClient(create_app(out), base_url="http://localhost") as client:
        info = client.get("/api/project").json()
        assert info["n"] == 0 and info["grid"] == {"rows": 0, "cols": 0}
        building = info["building"]
        assert building["stage"] == "decode + features + thumbnails" and building["total"] == 12
        assert 0 <= building["done"] < 12
        grid = client.get("/api/grid")
        assert grid.status_code == 503 and "still running" in grid.json()["detail"]
        model.release.set()
        thread.join(120)
        assert not errors and not thread.is_alive()
        done = client.get("/api/project").json()
        assert done["n"] == 12 and done["building"] is None
        assert len(client.get("/api/grid").content) == 12 * 2 * 4  # the map is there


def test_a_rebuild_serves_the_committed_map_marked_building_then_the_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images = make_folder(tmp_path / "images", per_class=2, with_broken=False)
    out = tmp_path / "p.deepviz"
    deepviz.build(images, out, models=[ColourExtractor()], progress=False)
    make_folder(tmp_path / "images", per_class=5, with_broken=False)  # 9 new images
    monkeypatch.setattr(LiveProject, "CHECK_SECONDS", 0.0)
    with TestClient(create_app(out), base_url="http://localhost") as client:
        model = HeldExtractor(free=0)
        thread, errors = _start_build(images, out, model)
        assert model.held.wait(60)
        during = client.get("/api/project").json()
        assert during["n"] == 6 and during["building"]["total"] == 9  # the old map, and how far the new one is
        assert client.get("/api/grid").status_code == 200
        model.release.set()
        thread.join(120)
        assert not errors
        after = client.get("/api/project").json()
        assert after["n"] == 15 and after["building"] is None


def test_a_killed_first_build_is_not_shown_as_building(tmp_path: Path) -> None:
    """Progress is believed only while the build that wrote it lives: a dead one's record is ignored."""
    images = make_folder(tmp_path / "images", per_class=2, with_broken=False)
    out = tmp_path / "p.deepviz"
    model = HeldExtractor(free=0)
    thread, _ = _start_build(images, out, model)
    assert model.held.wait(60)
    with TestClient(create_app(out), base_url="http://localhost") as client:
        assert read_progress(out) is not None
        holder = out / ".lock.holder"
        holder.write_text(holder.read_text().replace('"pid": ', '"pid": 1'))  # another (dead or foreign) process
        assert read_progress(out) is None
        info = client.get("/api/project").json()
        assert info["n"] == 0 and info["building"]["stage"] == INTERRUPTED
    model.release.set()
    thread.join(120)


def _imported_features(images: Path, path: Path) -> Path:
    """A (N, 8) feature file for the scan's images, in scan order (as --features expects)."""
    n = len(deepviz.scan(images).paths)
    np.save(path, np.random.default_rng(0).normal(size=(n, 8)).astype(np.float32))
    return path


def _wait_for_preview(client: TestClient) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info: dict[str, object] = client.get("/api/project").json()
        if info["preview"]:
            return info
        time.sleep(0.05)
    raise AssertionError("the build never served a preview")


def test_a_first_build_with_imported_features_serves_its_map_before_its_thumbnails(tmp_path: Path) -> None:
    images = make_folder(tmp_path / "images", per_class=4, with_broken=False)
    out = tmp_path / "p.deepviz"
    model = HeldExtractor(free=4)  # decoding stops after one chunk: the t-SNE of the imported rows goes on
    feats = _imported_features(images, tmp_path / "feats.npy")
    thread, errors = _start_build(images, out, model, features=feats)
    assert model.held.wait(60)
    with TestClient(create_app(out), base_url="http://localhost") as client:
        info = _wait_for_preview(client)
        # the whole map, marked as a preview of a build still running; never as finished
        assert info["n"] == 12 and info["name"] == "p" and info["building"] is not None
        assert info["building"]["stage"] == "decode + features + thumbnails" and info["grid_aspects"] == []  # type: ignore[index]
        assert not (out / "manifest.json").exists()
        grid = np.frombuffer(client.get("/api/grid").content, "<i4").reshape(12, 2)
        assert len({tuple(c) for c in grid.tolist()}) == 12  # a cell each
        labels = client.get("/api/labels")
        assert labels.status_code == 200 and len(labels.content) == 12 * 4
        rank = client.get("/api/rank/0")  # the imported features rank already
        assert rank.status_code == 200 and rank.headers["X-Count"] == "12"
        assert client.get("/api/images/3").json()["path"].startswith(("blue/", "green/", "red/"))
        for path in ("/api/colors", "/api/thumbs/64/0", "/api/thumbs/64/batch?ids=0-3", "/api/grid?aspect=1.5",
                     "/api/figure?q=0", "/api/queries/expand?image=0"):
            answer = client.post(path) if "expand" in path else client.get(path)
            assert answer.status_code == 503, (path, answer.status_code)
            assert "still" in answer.json()["detail"]
        model.release.set()
        thread.join(120)
        assert not errors and not thread.is_alive()
        done = client.get("/api/project").json()
        assert done["n"] == 12 and done["building"] is None and done["preview"] is False
        assert done["revision"] != info["revision"] and done["grid_aspects"]
        # no image was rejected, so the committed map is the preview's, cell for cell
        np.testing.assert_array_equal(np.frombuffer(client.get("/api/grid").content, "<i4").reshape(12, 2), grid)
        assert client.get("/api/thumbs/64/0").status_code == 200
        assert not (out / ".work").exists()  # the preview went with the workspace


def test_a_killed_builds_preview_is_never_served(tmp_path: Path) -> None:
    images = make_folder(tmp_path / "images", per_class=2, with_broken=False)
    out = tmp_path / "p.deepviz"
    model = HeldExtractor(free=0)
    thread, _ = _start_build(images, out, model, features=_imported_features(images, tmp_path / "f.npy"))
    assert model.held.wait(60)
    try:
        with TestClient(create_app(out), base_url="http://localhost") as client:
            _wait_for_preview(client)
            holder = out / ".lock.holder"
            holder.write_text(holder.read_text().replace('"pid": ', '"pid": 1'))  # as if the build had died
            info = client.get("/api/project").json()
            assert info["n"] == 0 and info["preview"] is False and info["building"]["stage"] == INTERRUPTED
            assert client.get("/api/grid").status_code == 503
    finally:
        model.release.set()
        thread.join(120)
