"""A server keeps answering from the committed project while a build runs (or dies), then switches
to the new one once the build commits; a build tells the user a server will pick it up."""
from __future__ import annotations

import signal
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from deepviz.cli import cli
from deepviz.server.app import LiveProject, create_app
from deepviz.storage.lock import announce_serving, servers
from tests.integration.test_crash import _build, _images


def _answers(client: TestClient) -> tuple[int, bytes, bytes]:
    n = client.get("/api/project").json()["n"]
    return n, client.get("/api/rank/0").content, client.get("/api/thumbs/32/1").content


def test_a_server_keeps_the_committed_project_during_a_build_then_switches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images = _images(tmp_path, incremental=False)
    out = tmp_path / "p.deepviz"
    assert _build(images, out).returncode == 0
    monkeypatch.setattr(LiveProject, "CHECK_SECONDS", 0.0)  # look at the manifest on every request
    with TestClient(create_app(out), base_url="http://localhost") as client:
        before = _answers(client)
        assert before[0] == 12
        _images(tmp_path, incremental=True)
        for point in ("features", "layout-and-grid-saved", "manifest-before"):
            assert _build(images, out, point).returncode == -signal.SIGKILL
            assert _answers(client) == before  # a killed build changed nothing the server shows
        assert _build(images, out).returncode == 0
        n, ranking, thumb = _answers(client)
        assert n == 24 and len(ranking) == 8 * 24 and thumb == before[2]  # ids and thumbnails of old images stay


def test_a_build_says_a_server_of_the_project_will_pick_it_up(tmp_path: Path) -> None:
    images = _images(tmp_path, incremental=False)
    out = tmp_path / "p.deepviz"
    assert _build(images, out).returncode == 0
    with announce_serving(out):
        assert servers(out) and (out / f".serving-{servers(out)[0]}").exists()
        result = CliRunner().invoke(cli, ["build", str(images), "-o", str(out), "--features", str(tmp_path / "extra.npz")])
    assert "is serving this project" in result.output, result.output
    assert servers(out) == []  # the mark goes with the server
