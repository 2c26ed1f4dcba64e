"""A project whose build is running is served as building, with its progress, never as finished;
the map fills in when the build commits (a first build), or switches (a rebuild)."""
from __future__ import annotations

import threading
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


def _start_build(images: Path, out: Path, model: ColourExtractor) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            deepviz.build(images, out, models=[model], chunk_size=4, batch_size=4, progress=False)
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
