"""What the page does with a failed request at start and with a cell size in its URL."""
from __future__ import annotations

from typing import Any

from tests.e2e.chromium import NEEDS_BROWSER
from tests.e2e.test_app import playwright_api

pytestmark = NEEDS_BROWSER


def _open(browser: Any, url: str, route: str | None = None) -> tuple[Any, list[str]]:
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if route:
        page.route(route, lambda r: r.fulfill(status=500, content_type="application/json", body='{"detail": "disk on fire"}'))
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    return page, errors


def test_failed_colours_are_shown_as_an_error_and_the_map_still_works(browser: Any, server_url: str) -> None:
    page, errors = _open(browser, server_url, "**/api/colors")
    message = page.get_by_test_id("error-message")
    playwright_api.expect(message).to_be_visible()
    playwright_api.expect(message).to_contain_text("colours")
    playwright_api.expect(message).to_contain_text("disk on fire")
    box = page.get_by_test_id("map-canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    playwright_api.expect(page.get_by_test_id("query-row")).to_have_count(1)
    page.context.close()
    assert not errors, errors


def test_a_cell_size_in_the_url_is_applied_at_load(browser: Any, server_url: str) -> None:
    page, errors = _open(browser, server_url + "#m=64")
    assert page.get_by_test_id("map-size").input_value() == "64"
    # The map's frame measures (web/src/timing.ts) say how big it drew the cells.
    page.wait_for_function(
        "() => { const f = performance.getEntriesByName('deepviz:map-frame'); return f.length && f[f.length - 1].detail.cellPx === 64; }"
    )
    page.context.close()
    assert not errors, errors
