"""A project built with one thumbnail size the page did not know (``--thumb-size 48``) shows every image.

The page once asked for 32/64/128 px whatever the project stored, and the server answered 404.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.conftest import live_server, make_folder
from tests.e2e.chromium import NEEDS_BROWSER
from tests.e2e.test_app import cell_centre, playwright_api

pytestmark = NEEDS_BROWSER

SIZE = 48


@pytest.fixture(scope="module")
def project_48(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 colour classes × 4 generated images, features their mean colours, thumbnails at 48 px only."""
    import deepviz
    from deepviz.cli import cli

    base = tmp_path_factory.mktemp("thumb48")
    images = make_folder(base / "images", per_class=4, with_broken=False)
    paths = deepviz.scan(images).paths
    feats = np.stack([np.asarray(Image.open(images / p).convert("RGB"), np.float32).mean(axis=(0, 1)) for p in paths])
    np.save(base / "feats.npy", feats / 255 + 0.01)
    out = base / "p48.deepviz"
    args = ["build", str(images), "-o", str(out), "--thumb-size", str(SIZE), "--features", str(base / "feats.npy"), "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def url_48(project_48: Path) -> Iterator[str]:
    from deepviz.server.app import create_app

    with live_server(create_app(project_48)) as url:
        yield url


def _loaded_images(page: Any, selector: str) -> list[dict[str, Any]]:
    """Every <img> matching ``selector`` once all have settled: its src and natural width (0: broken)."""
    page.wait_for_function(f"() => [...document.querySelectorAll('{selector}')].every((i) => i.complete)")
    images: list[dict[str, Any]] = page.evaluate(
        f"() => [...document.querySelectorAll('{selector}')].map((i) => ({{ src: i.currentSrc, width: i.naturalWidth }}))"
    )
    return images


def test_strips_query_images_and_hover_card_use_the_stored_size(browser: Any, url_48: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    page = context.new_page()
    page = browser.new_context(viewport={"width": 1400, "height": 860}).new_page()
    refused: list[str] = []
    errors: list[str] = []
    page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if "/api/thumbs/" in r.url and r.status >= 400 else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url_48)
    page.wait_for_selector("body[data-ready=true]")

    # The size controls offer only what the project stores.
    sizes = page.get_by_test_id("strip-size").locator("option")
    assert [sizes.nth(i).get_attribute("value") for i in range(sizes.count())] == [str(SIZE)]
    map_sizes = page.get_by_test_id("map-size").locator("option")
    assert [map_sizes.nth(i).get_attribute("value") for i in range(map_sizes.count())] == ["fit", str(SIZE)]

    page.mouse.click(*cell_centre(page, url_48, 0))
    page.mouse.click(*cell_centre(page, url_48, 7))
    rows = page.get_by_test_id("query-row")
    playwright_api.expect(rows).to_have_count(2)
    playwright_api.expect(rows.nth(1).get_by_test_id("strip-image").first).to_be_visible()
    page.mouse.move(*cell_centre(page, url_48, 3))
    playwright_api.expect(page.get_by_test_id("hover-preview")).to_be_visible()

    for what, selector in [
        ("strip", "[data-testid=strip-image]"),
        ("query image", "[data-testid=query-image]"),
        ("hover card", "[data-testid=hover-preview] img"),
    ]:
        images = _loaded_images(page, selector)
        assert images, f"no {what} images"
        broken = [i["src"] for i in images if i["width"] == 0]
        assert not broken, f"broken {what} images: {broken}"
        assert all(f"/thumbs/{SIZE}/" in i["src"] for i in images), images
    assert rows.nth(0).get_by_test_id("strip-image").first.get_attribute("width") == str(SIZE)
    assert not refused, f"thumbnail requests refused: {refused}"
    assert not errors, f"uncaught errors in the page: {errors}"
    context.close()
