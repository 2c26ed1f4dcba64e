"""`deepviz export` through click's runner: the site's files hold what the API would answer, and bad folders are refused."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import deepviz.export.site as site_module
from deepviz.cli import cli
from deepviz.core.similarity import rank, ranks_of, spearman
from deepviz.errors import UsageError
from deepviz.export.site import CONFIG, choose_mode, export_site, features_mb
from deepviz.server import models
from deepviz.settings import ExportSettings
from deepviz.storage.project import open_project


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["export", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_browser_site_holds_the_app_the_map_the_thumbnails_and_int8_features(tiny_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    printed = _run(str(tiny_project), "-o", str(out))
    p = open_project(tiny_project)
    assert "computed in the browser" in printed and "--browser-limit-mb 64" in printed and " MB in " in printed
    assert '<meta name="deepviz-site" content="deepviz-site.json">' in (out / "index.html").read_text()
    assert 'src="./assets/' in (out / "index.html").read_text()  # relative: works under a sub-path
    config = json.loads((out / CONFIG).read_text())
    assert config["mode"] == "browser" and config["queries"] == []
    info = models.ProjectInfo.model_validate_json((out / "data" / "project.json").read_text())
    assert info.n == p.n and info.grid_aspects == [] and not info.can_embed and info.revision == p.revision
    assert np.array_equal(np.fromfile(out / "data" / "grid.i32", "<i4").reshape(-1, 2), p.grid)
    d = p.feature_info().dim
    assert (out / "data" / "features.i8").stat().st_size == p.n * d
    assert (out / "data" / "scale.f32").stat().st_size == 4 * p.n
    assert config["features_mb"] == pytest.approx(features_mb(p.n, d), abs=1e-3)
    image = json.loads((out / "data" / "images" / "0.json").read_text())[5]
    assert models.ImageInfo.model_validate(image).path == p.images.at[5, "path"]
    # Each thumbnail once: a file of its own at the largest size, in a map tile at the others.
    largest = max(p.thumbnail_sizes)
    assert (out / "data" / "thumbs" / str(largest) / "7.jpg").read_bytes() == p.thumbnail(7, largest)
    for size in set(p.thumbnail_sizes) - {largest}:
        assert not list((out / "data" / "thumbs" / str(size)).glob("*.jpg"))
        assert _tiles(out / "data" / "thumbs" / str(size))[7] == p.thumbnail(7, size)
    thumb_bytes = sum(f.stat().st_size for f in (out / "data" / "thumbs").rglob("*") if f.is_file())
    stored = sum(f.stat().st_size for f in (tiny_project / "thumbs").glob("*.bin"))
    assert stored <= thumb_bytes <= stored + 4 * 3 * p.n + 8 * 64  # the JPEGs and the tiles' headers


def _tiles(folder: Path) -> dict[int, bytes]:
    """Every thumbnail in a size's tile files, by id (the format staticTiles.ts reads)."""
    out: dict[int, bytes] = {}
    for path in folder.glob("t*.bin"):
        raw = path.read_bytes()
        k = int(np.frombuffer(raw[:4], "<u4")[0])
        ids = np.frombuffer(raw[4 : 4 + 4 * k], "<u4")
        offs = np.frombuffer(raw[4 + 4 * k : 4 * (2 * k + 2)], "<u4")
        body = raw[4 * (2 * k + 2) :]
        for i, image_id in enumerate(ids.tolist()):
            assert image_id not in out
            out[image_id] = body[offs[i] : offs[i + 1]]
    return out


def test_tiles_hold_every_thumbnail_once_grouped_by_map_cells(tiny_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_module, "TILE", 2)
    p = open_project(tiny_project)
    export_site(p, ExportSettings(), tmp_path / "site")
    folder = tmp_path / "site" / "data" / "thumbs" / "32"
    assert len(list(folder.glob("t*.bin"))) > 1
    thumbs = _tiles(folder)
    assert {i: thumbs[i] for i in range(p.n)} == {i: p.thumbnail(i, 32) for i in range(p.n)}
    for path in folder.glob("t*.bin"):  # each tile is one 2 x 2 block of cells
        r, c = map(int, path.stem[1:].split("_"))
        ids = np.frombuffer(path.read_bytes()[4 : 4 + 4 * int(np.frombuffer(path.read_bytes()[:4], "<u4")[0])], "<u4")
        assert (p.grid[ids] // 2 == [r, c]).all()


def test_precomputed_rankings_are_the_server_s_cut_in_chunks(tiny_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_module, "CHUNK", 5)
    p = open_project(tiny_project)
    path = str(p.images.at[17, "path"])
    summary = export_site(p, ExportSettings(rankings="precomputed", queries=("3", path)), tmp_path / "site")
    assert summary.config.queries == [3, 17]
    x = p.features()
    folder = tmp_path / "site" / "data" / "rankings"
    for q in (3, 17):
        order, sims = rank(x, np.asarray(x[q], np.float32))
        k = -(-p.n // 5)
        got = np.concatenate([np.fromfile(folder / str(q) / f"order-{i}.i32", "<i4") for i in range(k)])
        got_sims = np.concatenate([np.fromfile(folder / str(q) / f"sims-{i}.f32", "<f4") for i in range(k)])
        got_ranks = np.concatenate([np.fromfile(folder / str(q) / f"rank-{i}.i32", "<i4") for i in range(k)])
        assert np.array_equal(got, order) and np.array_equal(got_sims, sims) and np.array_equal(got_ranks, ranks_of(order))
        curve = np.fromfile(folder / str(q) / "curve-log.f32", "<f4").reshape(2, -1)
        assert curve[0].max() <= site_module.CURVE_WIDTH and curve[1][0] == sims[0]
    assert not (tmp_path / "site" / "data" / "features.i8").exists()
    r3, r17 = (ranks_of(rank(x, np.asarray(x[q], np.float32))[0]) for q in (3, 17))
    assert summary.config.spearman == {"3,17": pytest.approx(spearman(r3, r17))}


def test_the_mode_follows_the_size_of_the_features() -> None:
    assert choose_mode(1_000, 512, ExportSettings()) == "browser"
    assert choose_mode(1_000_000, 512, ExportSettings(queries=("1",))) == "precomputed"
    assert choose_mode(1_000_000, 512, ExportSettings(rankings="browser")) == "browser"
    with pytest.raises(UsageError, match="--queries ID"):
        choose_mode(1_000_000, 512, ExportSettings())


def test_a_previous_export_is_replaced_and_what_the_user_added_is_kept(tiny_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _run(str(tiny_project), "-o", str(out))
    assert (out / ".nojekyll").is_file()
    (out / "data" / "features.i8").write_bytes(b"stale")
    (out / "CNAME").write_text("viz.example.org")  # what GitHub Pages needs beside the site
    _run(str(tiny_project), "-o", str(out), "--rankings", "precomputed", "--queries", "2")
    assert not (out / "data" / "features.i8").exists() and (out / "data" / "rankings" / "2").is_dir()
    assert (out / "CNAME").read_text() == "viz.example.org"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no temporary folder left beside it


def test_the_page_reads_the_config_the_export_writes() -> None:
    """web/src/staticSite.ts's SiteConfig names the same fields as site.py's (typed twice: no OpenAPI for files)."""
    import dataclasses
    import re

    ts = (Path(__file__).resolve().parents[2] / "web" / "src" / "staticSite.ts").read_text()
    body = re.search(r"export interface SiteConfig \{(.*?)\n\}", ts, re.S)
    assert body
    fields = set(re.findall(r"^\s+(\w+):", body.group(1), re.M))
    python = {f.name for f in dataclasses.fields(site_module.SiteConfig)}
    assert fields == python


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: (d / "mine").mkdir() or (d / "mine" / "notes.txt").write_text("keep me"), "not a deepviz export"),
        (lambda d: (d / "mine").write_text("keep me"), "that is a file"),
    ],
)
def test_a_folder_or_file_of_the_user_s_is_refused_and_kept(tiny_project: Path, tmp_path: Path, make: object, message: str) -> None:
    make(tmp_path)  # type: ignore[operator]
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(cli, ["export", str(tiny_project), "-o", str(tmp_path / "mine")])
    assert result.exit_code != 0 and message in result.output
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before
    assert "keep me" in ((tmp_path / "mine" / "notes.txt") if (tmp_path / "mine").is_dir() else tmp_path / "mine").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--feature-set", "nope"], "this project has colour"),
        (["--rankings", "precomputed"], "--queries ID"),
        (["--rankings", "precomputed", "-q", "999"], "the project has images 0..23"),
    ],
)
def test_bad_options_say_what_to_do(tiny_project: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["export", str(tiny_project), "-o", str(tmp_path / "site"), *args])
    assert result.exit_code != 0 and message in result.output, result.output
    assert not (tmp_path / "site").exists()


def test_a_folder_that_is_no_project_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "empty"), "-o", str(tmp_path / "site")])
    assert result.exit_code != 0 and "manifest" in result.output.lower(), result.output
    assert not (tmp_path / "site").exists()
