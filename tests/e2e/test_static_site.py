"""A static site made by `deepviz export`, served by ``python -m http.server`` (no deepviz server
anywhere), opened in Chromium: click a map image and see its query row, curve and strip.

The strip is compared with the exact float32 ranking of the project's stored features (the
site ranks from int8 features within the bound it reports). Screenshots go to
``test-artifacts/screenshots/static-*.png``.
"""
from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from deepviz.cli import cli
from deepviz.core.similarity import rank
from deepviz.storage.project import open_project
from tests.e2e.chromium import NEEDS_BROWSER, SHOTS

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = NEEDS_BROWSER


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def sites(tiny_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two exports of the tiny project side by side: browser rankings, and precomputed ones of images 3 and 17."""
    root = tmp_path_factory.mktemp("static") / "www"
    for name, extra in (("browser", []), ("precomputed", ["--rankings", "precomputed", "-q", "3", "-q", "17"])):
        result = CliRunner().invoke(cli, ["export", str(tiny_project), "-o", str(root / "sub" / name), *extra])
        assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def site_url(sites: Path) -> Iterator[str]:
    """The folder above the sites served by Python's own file server: each site lives under a sub-path, as on GitHub Pages."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(sites)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/sub/"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url + "browser/deepviz-site.json")  # noqa: S310 (local test server)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _open(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1300, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/" in r.url else None)
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    return context, page, errors + api_calls  # one list: nothing may land in it


def _cell_centre(page: Any, site: Path, image_id: int) -> tuple[float, float]:
    """Page coordinates of an image's cell in the map's first "fit" view, from the site's own grid file."""
    canvas = page.get_by_test_id("map-canvas")
    grid = np.fromfile(site / "data" / "grid.i32", "<i4").reshape(-1, 2)
    rows, cols = int(canvas.get_attribute("data-rows")), int(canvas.get_attribute("data-cols"))
    box = canvas.bounding_box()
    k = min((box["width"] - 8) / cols, (box["height"] - 8) / rows)
    x0, y0 = (box["width"] - cols * k) / 2, (box["height"] - rows * k) / 2
    row, col = grid[image_id]
    return box["x"] + x0 + (col + 0.5) * k, box["y"] + y0 + (row + 0.5) * k


def _ink(png: bytes) -> int:
    """Pixels of a screenshot that are not the background (a drawn curve has some)."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    return int((pixels < 200).sum())


def test_a_static_site_shows_a_clicked_image_s_row_curve_and_strip(browser: Any, site_url: str, sites: Path, tiny_project: Path) -> None:
    context, page, problems = _open(browser, site_url + "browser/")
    try:
        playwright_api.expect(page.get_by_test_id("static-note")).to_contain_text("uploads")
        assert page.get_by_test_id("upload-input").count() == 0
        assert not page.get_by_test_id("concept-bar").is_visible()
        page.mouse.click(*_cell_centre(page, sites / "sub" / "browser", 5))
        row = page.get_by_test_id("query-row")
        playwright_api.expect(row).to_have_count(1)
        strip = row.get_by_test_id("strip-image")
        playwright_api.expect(strip.first).to_have_attribute("data-rank", "0")
        ids = [int(i.get_attribute("data-id")) for i in strip.all()]
        project = open_project(tiny_project)
        order, sims = rank(project.features(), np.asarray(project.features()[5], np.float32))
        bound = json.loads((sites / "sub" / "browser" / "deepviz-site.json").read_text())["similarity_error_bound"]
        exact = dict(zip(order.tolist(), sims.tolist()))
        # Near-ties (the tiny project's classes are ~1.0000 apart) may swap within the quantisation
        # bound: each image shown is as similar as the exact k-th within twice the bound, and its
        # similarity is the exact one within the bound.
        assert 5 in ids
        assert all(exact[i] >= sims[len(ids) - 1] - 2 * bound for i in ids)
        shown = [float(i.get_attribute("data-sim")) for i in strip.all()]
        assert np.allclose(shown, [exact[i] for i in ids], atol=bound + 1e-4)
        playwright_api.expect(page.get_by_test_id("overlay-chart")).to_have_attribute("data-curves", "0")
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=strip-image]')].every(i => i.complete && i.naturalWidth > 0)"
        )
        assert _ink(row.get_by_test_id("row-chart").screenshot()) > 50
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "static-browser.png"))
    finally:
        context.close()
    assert not problems, f"page errors or calls to a server API: {problems}"


def test_a_precomputed_site_ranks_its_queries_and_says_why_others_have_none(browser: Any, site_url: str, sites: Path) -> None:
    context, page, problems = _open(browser, site_url + "precomputed/")
    try:
        playwright_api.expect(page.get_by_test_id("static-note")).to_contain_text("3, 17")
        site = sites / "sub" / "precomputed"
        page.mouse.click(*_cell_centre(page, site, 17))
        strip = page.get_by_test_id("query-row").first.get_by_test_id("strip-image")
        playwright_api.expect(strip.first).to_have_attribute("data-rank", "0")
        order = np.fromfile(site / "data" / "rankings" / "17" / "order-0.i32", "<i4")
        assert [int(i.get_attribute("data-id")) for i in strip.all()] == order[: strip.count()].tolist()
        page.mouse.click(*_cell_centre(page, site, 4))
        playwright_api.expect(page.get_by_test_id("query-row").nth(1)).to_contain_text("no ranking in this static site")
        page.screenshot(path=str(SHOTS / "static-precomputed.png"))
    finally:
        context.close()
    assert not problems, f"page errors or calls to a server API: {problems}"


LAST_FRAME = "() => { const m = performance.getEntriesByName('deepviz:map-frame'); return m.length ? m[m.length - 1].detail : null; }"


@pytest.mark.parametrize(("size", "files"), [("32", "/data/thumbs/32/t"), ("128", "/data/thumbs/128/")])
def test_the_map_draws_every_cell_from_tiles_or_single_files(browser: Any, site_url: str, size: str, files: str) -> None:
    """Small cells come from map tiles, the largest from one file per image: every cell on screen is drawn."""
    context, page, problems = _open(browser, site_url + "browser/")
    try:
        page.get_by_test_id("map-size").select_option(size)
        page.wait_for_function(
            f"() => {{ const d = ({LAST_FRAME})(); return d && d.cellPx === {size} && d.mode === 'cells' && d.missing === 0; }}",
            timeout=15_000,
        )
        fetched = page.evaluate("() => performance.getEntriesByType('resource').map((e) => e.name)")
        asked = [url for url in fetched if f"/data/thumbs/{size}/" in url]
        assert asked and all(files in url for url in asked), asked
        page.screenshot(path=str(SHOTS / f"static-map-{size}.png"))
    finally:
        context.close()
    assert not problems, f"page errors or calls to a server API: {problems}"
