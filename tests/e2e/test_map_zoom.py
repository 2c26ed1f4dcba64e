"""Zoomed in, the map draws the largest thumbnail size the cell needs (issue 8): at 32 px cells the
32 px thumbnails, past them the 64 and 128 px ones the project stores, not the small ones upscaled."""
from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.chromium import NEEDS_BROWSER, open_page
from tests.e2e.test_ux import shot

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = NEEDS_BROWSER

LAST_FRAME = "() => { const m = performance.getEntriesByName('deepviz:map-frame'); return m.length ? m[m.length - 1].detail : null; }"


def settled_frame(page: Any) -> dict[str, Any]:
    """The last map frame once every visible cell has its thumbnail at the wanted size."""
    page.wait_for_function(f"() => {{ const d = ({LAST_FRAME})(); return d && d.mode === 'cells' && d.missing === 0; }}", timeout=15_000)
    frame: dict[str, Any] = page.evaluate(LAST_FRAME)
    return frame


def test_zooming_in_fetches_and_draws_the_larger_thumbnails(browser: Any, server_url: str) -> None:
    context, page, errors = open_page(browser, server_url)
    sizes: list[int] = []
    page.on("request", lambda r: sizes.append(int(r.url.split("/api/thumbs/")[1].split("/")[0])) if "/api/thumbs/" in r.url else None)
    canvas = page.get_by_test_id("map-canvas")
    box = canvas.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    page.get_by_test_id("map-size").select_option("32")
    page.wait_for_function(f"() => ({LAST_FRAME})().cellPx === 32")
    frame = settled_frame(page)
    assert frame["cellPx"] == 32 and set(sizes) == {32}, sizes

    # Zoom in with the wheel about the centre until a cell is well over 64 px: the 128 px size is fetched...
    sizes.clear()
    page.mouse.move(*centre)
    for _ in range(12):
        page.mouse.wheel(0, -200)
        page.wait_for_timeout(50)
    page.wait_for_function(f"() => ({LAST_FRAME})().cellPx > 100")
    frame = settled_frame(page)
    # ... and every cell on screen is drawn from it (missing counts cells without the wanted size).
    assert frame["cellPx"] > 100 and frame["missing"] == 0 and frame["cells"] > 0
    assert 128 in sizes and 32 not in sizes, sizes
    shot(page, "map-zoomed-128")

    # In between, the 64 px one (fetched already for the first, fitted view: drawn, not asked again).
    sizes.clear()
    page.get_by_test_id("map-size").select_option("64")
    page.wait_for_function(f"() => ({LAST_FRAME})().cellPx === 64")
    assert settled_frame(page)["missing"] == 0 and set(sizes) <= {64}, sizes
    context.close()
    assert not errors, errors
