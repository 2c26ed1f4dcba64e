"""Zoomed out, the map draws the tile pyramid's pixels (issue 10): each image's thumbnail shrunk to
a few pixels, not one flat mean colour per cell. The synthetic thumbnails are a light disc on a
darker ground, so real pixels show structure inside every cell that mean colours cannot."""
from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bench.synthetic import add_tiles, write_synthetic_project
from tests.conftest import live_server
from tests.e2e.chromium import NEEDS_BROWSER, open_page
from tests.e2e.test_map_zoom import LAST_FRAME
from tests.e2e.test_ux import shot

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = NEEDS_BROWSER

N = 5000  # fitted in a 1440 x 900 page, a cell is ~9 px: below thumbnails, so tiles of 8 px per cell


@pytest.fixture(scope="module")
def tiled_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from deepviz.server.app import create_app

    root = write_synthetic_project(tmp_path_factory.mktemp("tiles") / "p", N, 8, thumbs=True)
    add_tiles(root)
    with live_server(create_app(root)) as url:
        yield url


def _map_pixels(page: Any) -> np.ndarray:
    """The map canvas as the screen shows it, (H, W, 3) int."""
    png = page.get_by_test_id("map-canvas").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int64)


def _detail(img: np.ndarray) -> float:
    """Mean colour change between horizontal neighbours: edges inside cells raise it."""
    return float(np.abs(np.diff(img, axis=1)).mean())


def _settled(page: Any, condition: str) -> dict[str, Any]:
    page.wait_for_function(f"() => {{ const d = ({LAST_FRAME})(); return d && {condition}; }}", timeout=30_000)
    page.wait_for_selector(".map-canvas:not([data-grid-fitting])")
    page.wait_for_function(f"() => {{ const d = ({LAST_FRAME})(); return d && {condition}; }}", timeout=30_000)
    frame: dict[str, Any] = page.evaluate(LAST_FRAME)
    return frame


def test_the_zoomed_out_map_draws_tile_pixels_not_mean_colours(browser: Any, tiled_url: str) -> None:
    # Before: tiles refused, so the map shows what it showed before tiles existed, mean colours.
    context, page, errors = open_page(browser, tiled_url)
    page.route("**/api/tiles/**", lambda route: route.abort())
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    frame = _settled(page, "d.mode === 'tiles' && d.missing > 0")
    assert frame["cellPx"] < 12
    page.wait_for_timeout(500)
    flat = _map_pixels(page)
    shot(page, "map-tiles-before-mean-colours")
    context.close()

    # After: every visible tile arrives and is drawn.
    context, page, errors = open_page(browser, tiled_url)
    frame = _settled(page, "d.mode === 'tiles' && d.missing === 0")
    assert frame["tilePx"] == 8 and frame["cellPx"] < 12
    page.wait_for_timeout(300)
    real = _map_pixels(page)
    shot(page, "map-tiles-after-real-pixels")
    tiles = page.evaluate("performance.getEntriesByType('resource').map((e) => e.name).filter((u) => u.includes('/api/tiles/'))")
    # The stored grid's tiles first, then those of the grid fitted to the pane, once it is shown.
    aspect = page.get_by_test_id("map-canvas").get_attribute("data-grid-aspect")
    assert aspect and any(u.endswith(f"&aspect={aspect}") for u in tiles), (aspect, tiles)
    assert flat.shape == real.shape
    # The same regions in the same colours on average, but with each thumbnail's disc inside its cell.
    assert abs(real.mean() - flat.mean()) < 10
    assert _detail(real) > 1.5 * _detail(flat), (_detail(real), _detail(flat))
    context.close()
    assert not errors, errors
