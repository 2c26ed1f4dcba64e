"""The map fills its pane (issue 8): the page shows the layout on a grid of its pane's aspect,
at the default split and in a tall pane, and hovering or clicking a cell still finds its image."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.e2e.chromium import NEEDS_BROWSER, open_page
from tests.e2e.test_app import cell_centre
from tests.e2e.test_ux import shot

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = NEEDS_BROWSER
BACKGROUND = (0xF4, 0xF4, 0xF2)


@pytest.fixture(scope="module")
def map_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """2,000 synthetic images with thumbnails, stored on a grid of aspect 1.5."""
    from bench.synthetic import write_synthetic_project
    from deepviz.server.app import create_app
    from tests.conftest import live_server

    root = write_synthetic_project(tmp_path_factory.mktemp("fit") / "fit.deepviz", 2000, 16, thumbs=True)
    with live_server(create_app(root)) as url:
        yield url


def filled(page: Any) -> tuple[float, float]:
    """The share of the map pane's width and height that the drawn grid covers (from its pixels)."""
    png = page.get_by_test_id("map-canvas").screenshot()
    px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    drawn = np.abs(px - np.array(BACKGROUND)).sum(axis=2) > 12
    rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    h, w = drawn.shape
    return (cols[-1] - cols[0] + 1) / w, (rows[-1] - rows[0] + 1) / h


@pytest.mark.parametrize("viewport", [(1440, 900), (1000, 1300)], ids=["laptop", "tall"])
def test_the_map_fills_its_pane(browser: Any, map_url: str, viewport: tuple[int, int]) -> None:
    context, page, errors = open_page(browser, map_url, *viewport)
    canvas = page.get_by_test_id("map-canvas")
    # The first resize observation may ask again once the pane settles: wait for that grid to be in.
    playwright_api.expect(canvas).to_have_attribute("data-grid-aspect", re.compile(r"^[0-9.]+$"))
    playwright_api.expect(canvas).not_to_have_attribute("data-grid-fitting", "true")
    box = canvas.bounding_box()
    rows, cols = int(canvas.get_attribute("data-rows")), int(canvas.get_attribute("data-cols"))
    # Not the stored 1.5 grid: one of the pane's shape (the 1440x900 map pane is taller than wide).
    assert canvas.get_attribute("data-grid-aspect") is not None
    assert abs(np.log((cols / rows) / (box["width"] / box["height"]))) < 0.25
    page.wait_for_timeout(800)  # the thumbnails
    width, height = filled(page)
    shot(page, f"map-fit-{viewport[0]}x{viewport[1]}")
    assert width > 0.85 and height > 0.85, (width, height)

    # Hover and click still find the image under the pointer on the fitted grid.
    for image_id in (0, 999, 1999):
        x, y = cell_centre(page, map_url, image_id)
        page.mouse.move(x, y)
        card = page.get_by_test_id("hover-preview")
        playwright_api.expect(card).to_contain_text(f"id {image_id} ")
    page.mouse.click(*cell_centre(page, map_url, 1234))
    playwright_api.expect(page.locator("body")).to_have_attribute("data-queries", "i1234")
    context.close()
    assert not errors, errors


def test_the_grid_follows_the_pane_when_the_splitter_moves(browser: Any, map_url: str) -> None:
    context, page, errors = open_page(browser, map_url)
    canvas = page.get_by_test_id("map-canvas")
    before = float(canvas.get_attribute("data-grid-aspect"))
    # The splitter dragged right: a wider map pane gets a wider grid.
    handle = page.get_by_test_id("pane-splitter").bounding_box()
    y = handle["y"] + handle["height"] / 2
    page.mouse.move(handle["x"] + 3, y)
    page.mouse.down()
    page.mouse.move(handle["x"] + 450, y, steps=5)
    page.mouse.up()
    playwright_api.expect(canvas).not_to_have_attribute("data-grid-aspect", str(before), timeout=5000)
    playwright_api.expect(canvas).not_to_have_attribute("data-grid-fitting", "true")
    after = float(canvas.get_attribute("data-grid-aspect"))
    assert after > before
    page.wait_for_timeout(500)
    width, height = filled(page)
    assert width > 0.85 and height > 0.85, (width, height)
    # A lower window: wider still.
    page.set_viewport_size({"width": 1440, "height": 500})
    playwright_api.expect(canvas).not_to_have_attribute("data-grid-aspect", str(after), timeout=5000)
    assert float(canvas.get_attribute("data-grid-aspect")) > after
    page.wait_for_timeout(500)
    width, height = filled(page)
    assert width > 0.85 and height > 0.85, (width, height)
    context.close()
    assert not errors, errors
