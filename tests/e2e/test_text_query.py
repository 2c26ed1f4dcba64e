"""The text box in Chromium: shown for a CLIP-like feature set, a typed text becomes a query row ranked
as the server ranks it, and the box hides for a feature set without a text tower."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import deepviz
from tests.conftest import live_server, make_folder
from tests.e2e.chromium import NEEDS_BROWSER, SHOTS
from tests.e2e.test_app import server_ranking, strip

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = NEEDS_BROWSER


@pytest.fixture(scope="module")
def clip_url(hf_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from deepviz.server.app import create_app

    root = tmp_path_factory.mktemp("text-e2e")
    images = make_folder(root / "images", per_class=4, with_broken=False)
    clip = hf_models["clip"]
    deepviz.build(images, root / "p", models=[f"hf:{clip}", f"hf:{clip}#pool=cls"], progress=False)
    with live_server(create_app(root / "p")) as url:
        yield url


def test_a_typed_text_becomes_a_query_row(browser: Any, clip_url: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(clip_url)
    page.wait_for_selector("body[data-ready=true]")
    box = page.get_by_test_id("text-query-input")
    playwright_api.expect(box).to_be_visible()
    box.fill("a red square")
    page.get_by_test_id("text-query-submit").click()
    rows = page.get_by_test_id("query-row")
    playwright_api.expect(rows).to_have_count(1)
    playwright_api.expect(rows.nth(0).get_by_test_id("strip-image").first).to_be_visible()
    playwright_api.expect(rows.nth(0)).to_contain_text("a red square")
    playwright_api.expect(box).to_have_value("")
    ref = rows.nth(0).get_attribute("data-ref")
    ids, _ = server_ranking(clip_url, f"upload/{ref[1:]}")
    shown = strip(page, 0)
    assert shown and [i for i, _ in shown] == ids[: len(shown)].tolist()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "20-text-query.png"))
    # The class token is not in the text's space: no box for it.
    page.get_by_test_id("features").select_option(index=1)
    playwright_api.expect(box).to_be_hidden()
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
