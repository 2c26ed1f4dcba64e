"""In Chromium: a project whose first build is running shows the build's progress, never a map,
and the page turns into the finished map by itself when the build commits."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from deepviz.server.app import create_app
from tests.conftest import live_server, make_folder
from tests.e2e.chromium import NEEDS_BROWSER
from tests.e2e.test_ux import shot
from tests.integration.test_serve_building import HeldExtractor, _start_build

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = NEEDS_BROWSER


def test_a_first_build_shows_progress_then_the_map(browser: Any, tmp_path: Path) -> None:
    with _held_build_page(browser, tmp_path) as (page, url, _, finish):
        page.goto(url)
        page.wait_for_selector("body[data-ready=building]")
        expect(page.get_by_test_id("building")).to_contain_text("Building “p”")
        expect(page.get_by_test_id("building-progress")).to_contain_text("of 12")
        assert page.get_by_test_id("map-canvas").count() == 0
        shot(page, "building-01-first-build")
        finish()
        expect(page.get_by_test_id("map-canvas")).to_be_visible(timeout=30_000)
        assert page.get_by_test_id("building").count() == 0
        shot(page, "building-02-finished")


def test_a_preview_shows_the_map_in_label_colours_then_the_thumbnails(browser: Any, tmp_path: Path) -> None:
    """A first build with imported features: its map, in label colours, while thumbnails are made."""
    with _held_build_page(browser, tmp_path, imported=True) as (page, url, _, finish):
        page.goto(url)
        expect(page.get_by_test_id("building")).to_contain_text("thumbnails are still being made", timeout=60_000)
        page.wait_for_selector("body[data-ready=true]")
        expect(page.get_by_test_id("map-canvas")).to_be_visible()
        # the map is drawn in the labels' colours: three hues (red, green, blue folders), no grey placeholder
        pixels = page.evaluate(
            """() => { const c = document.querySelector('[data-testid=map-canvas]');
                 const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const seen = new Set();
                 for (let i = 0; i < d.length; i += 4 * 97) seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]);
                 return [...seen]; }"""
        )
        assert len(pixels) >= 4, pixels  # background + three label colours
        assert page.get_by_test_id("error-message").is_hidden()
        shot(page, "building-03-preview")
        finish()
        expect(page.get_by_test_id("building")).to_have_count(0, timeout=30_000)
        expect(page.get_by_test_id("map-canvas")).to_be_visible()
        shot(page, "building-04-preview-finished")


@contextmanager
def _held_build_page(browser: Any, tmp_path: Path, **settings: object) -> Iterator[tuple[Any, str, HeldExtractor, Callable[[], None]]]:
    """A first build of 12 images held after its first chunk, a page and the server's URL; ``finish``
    releases the build and waits for it. Uncaught page errors fail the test."""
    images = make_folder(tmp_path / "images", per_class=4, with_broken=False)
    out = tmp_path / "p.deepviz"
    if settings.pop("imported", False):
        from tests.integration.test_serve_building import _imported_features

        settings["features"] = _imported_features(images, tmp_path / "f.npy")
    model = HeldExtractor(free=4)
    thread, errors = _start_build(images, out, model, **settings)
    assert model.held.wait(60)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))

    def finish() -> None:
        model.release.set()
        thread.join(120)
        assert not errors

    try:
        with live_server(create_app(out)) as url:
            yield page, url, model, finish
    finally:
        model.release.set()
        context.close()
    assert not page_errors, page_errors
