"""The query pane at real window sizes (issue 8): a fitted y axis, a brush that can always be
grabbed, a pane share that gives strips room. Drives Debian's Chromium against the tiny project."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.chromium import NEEDS_BROWSER, SHOTS

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
pytestmark = NEEDS_BROWSER


def open_page(browser: Any, url: str, width: int = 1440, height: int = 900) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(url)
    pg.wait_for_selector("body[data-ready=true]")
    return context, pg, errors


@pytest.fixture
def page(browser: Any, server_url: str) -> Iterator[Any]:
    context, pg, errors = open_page(browser, server_url)
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def strip_ranks(page: Any, row: int = 0) -> list[int]:
    images = page.get_by_test_id("query-row").nth(row).get_by_test_id("strip-image")
    return [int(i.get_attribute("data-rank")) for i in images.all()]


def test_y_axis_is_fitted_by_default_and_full_range_is_an_option(page: Any, server_url: str) -> None:
    page.goto(f"{server_url}#q=i3:0:-")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    row = page.get_by_test_id("query-row").first
    expect(row.get_by_test_id("strip-image").first).to_be_visible()
    chart = row.get_by_test_id("row-chart")
    expect(page.get_by_test_id("fit-toggle")).to_be_checked()
    lo, hi = (float(v) for v in chart.get_attribute("data-y-domain").split(","))
    assert (lo, hi) != (-1.0, 1.0) and hi > lo
    # The axis is labelled with the fitted range's ends.
    labels = [t.text_content() for t in chart.locator(".y-axis .tick text").all()]
    assert labels[0] == f"{lo:.2f}" and labels[-1] == f"{hi:.2f}"
    page.get_by_test_id("fit-toggle").uncheck()
    expect(chart).to_have_attribute("data-y-domain", "-1.0000,1.0000")
    assert "y=0" in page.evaluate("location.hash")
