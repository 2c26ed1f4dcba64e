"""The app in Debian's Chromium, used like a person would: click the map, brush, hover, upload, reload.

Runs against a real uvicorn server (in a thread) serving a tiny generated project with the fake
``ColourExtractor``; the checks compare what the page shows with the server's own rankings.
Screenshots of the main states go to ``test-artifacts/screenshots/``.
"""
from __future__ import annotations

import io
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.e2e.chromium import NEEDS_BROWSER, SHOTS, opened

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = NEEDS_BROWSER


@pytest.fixture
def page(browser: Any, server_url: str) -> Iterator[Any]:
    with opened(browser, server_url, 1400, 860) as pg:
        yield pg


def get(url: str) -> bytes:
    with urllib.request.urlopen(url) as res:  # noqa: S310 (local test server)
        return res.read()


def server_ranking(base: str, query: str) -> tuple[np.ndarray, np.ndarray]:
    """(ids, sims) of a query ('12' or 'upload/u1') as the server answers it."""
    raw = get(f"{base}api/rank/{query}")
    n = len(raw) // 8
    return np.frombuffer(raw[: 4 * n], "<i4"), np.frombuffer(raw[4 * n :], "<f4")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def cell_centre(page: Any, base: str, image_id: int) -> tuple[float, float]:
    """Page coordinates of an image's cell on the map in its initial "fit" view (see geometry.fitTransform),
    on the grid the page shows (one fitted to the pane: data-grid-aspect; else the stored one)."""
    canvas = page.get_by_test_id("map-canvas")
    playwright_api.expect(canvas).not_to_have_attribute("data-grid-fitting", "true")  # a resize's new grid is in
    aspect = canvas.get_attribute("data-grid-aspect")
    grid = np.frombuffer(get(f"{base}api/grid" + (f"?aspect={aspect}" if aspect else "")), "<i4").reshape(-1, 2)
    rows, cols = int(canvas.get_attribute("data-rows")), int(canvas.get_attribute("data-cols"))
    box = canvas.bounding_box()
    w, h = int(box["width"]), int(box["height"])
    k = min((w - 8) / cols, (h - 8) / rows)
    x0, y0 = (w - cols * k) / 2, (h - rows * k) / 2
    row, col = grid[image_id]
    return box["x"] + x0 + (col + 0.5) * k, box["y"] + y0 + (row + 0.5) * k


def strip(page: Any, row: int) -> list[tuple[int, int]]:
    """(id, rank) of each image in a row's strip."""
    images = page.get_by_test_id("query-row").nth(row).get_by_test_id("strip-image")
    return [(int(i.get_attribute("data-id")), int(i.get_attribute("data-rank"))) for i in images.all()]


def add_two_queries(page: Any, base: str, a: int = 0, b: int = 20) -> None:
    page.mouse.click(*cell_centre(page, base, a))
    page.mouse.click(*cell_centre(page, base, b))
    rows = page.get_by_test_id("query-row")
    playwright_api.expect(rows).to_have_count(2)
    playwright_api.expect(rows.nth(1).get_by_test_id("strip-image").first).to_be_visible()


def drag_brush(page: Any, row: int, from_rank: float, to_rank: float, n: int) -> None:
    """Drag inside a row's brush selection from one rank to another (moves the window)."""
    overlay = page.get_by_test_id("query-row").nth(row).locator(".brush .overlay")
    box = overlay.bounding_box()
    y = box["y"] + box["height"] / 2
    x = lambda r: box["x"] + box["width"] * r / n  # noqa: E731
    page.mouse.move(x(from_rank), y)
    page.mouse.down()
    page.mouse.move(x(from_rank) + 5, y, steps=2)
    page.mouse.move(x(to_rank), y, steps=8)
    page.mouse.up()


def test_map_shows_every_image_and_hover_previews_it(page: Any, server_url: str) -> None:
    shot(page, "01-map")
    page.mouse.move(*cell_centre(page, server_url, 5))
    preview = page.get_by_test_id("hover-preview")
    playwright_api.expect(preview).to_be_visible()
    info = json.loads(get(f"{server_url}api/images/5"))
    playwright_api.expect(preview).to_contain_text(info["path"])
    playwright_api.expect(preview).to_contain_text("id 5")
    shot(page, "02-map-hover")


def test_two_clicks_make_two_rows_and_two_overlay_curves(page: Any, server_url: str) -> None:
    add_two_queries(page, server_url, 0, 20)
    rows = page.get_by_test_id("query-row")
    assert rows.nth(0).get_attribute("data-ref") == "i0"
    assert rows.nth(1).get_attribute("data-ref") == "i20"
    playwright_api.expect(page.get_by_test_id("overlay-chart")).to_have_attribute("data-curves", "0,1")
    # The default window is the top of each ranking: the strip shows the server's top ids.
    ids, _ = server_ranking(server_url, "20")
    shown = strip(page, 1)
    assert shown, "the strip is empty"
    assert [i for i, _ in shown] == ids[: len(shown)].tolist()
    assert [r for _, r in shown] == list(range(len(shown)))
    shot(page, "03-two-queries")


def test_brush_moves_the_strip_to_those_ranks(page: Any, server_url: str) -> None:
    add_two_queries(page, server_url, 0, 20)
    n = json.loads(get(f"{server_url}api/project"))["n"]
    before = strip(page, 0)
    width = len(before)
    drag_brush(page, 0, width / 2, width / 2 + 6, n)
    ids, _ = server_ranking(server_url, "0")
    shown = strip(page, 0)
    ranks = [r for _, r in shown]
    assert ranks[0] == 6, f"window did not move by 6 ranks: {ranks}"
    assert [i for i, _ in shown] == [int(ids[r]) for r in ranks]
    assert f"0:6-{6 + width}" in page.evaluate("location.hash")
    # Independent brushes: the other row did not move.
    assert [r for _, r in strip(page, 1)][0] == 0
    shot(page, "04-brushed")


def test_hovering_a_strip_image_puts_a_ball_on_every_curve(page: Any, server_url: str) -> None:
    add_two_queries(page, server_url, 0, 20)
    image = page.get_by_test_id("query-row").nth(0).get_by_test_id("strip-image").nth(2)
    hovered = int(image.get_attribute("data-id"))
    image.hover()
    balls = page.get_by_test_id("curve-ball")
    playwright_api.expect(balls).to_have_count(4)  # one per curve: 2 on the overlay, 1 in each row
    rank_in = {q: int(np.flatnonzero(server_ranking(server_url, q)[0] == hovered)[0]) for q in ("0", "20")}
    balls = page.locator('[data-chart="overlay-chart"]').all()
    overlay = {int(b.get_attribute("data-slot")): int(b.get_attribute("data-rank")) for b in balls}
    assert overlay == {0: rank_in["0"], 1: rank_in["20"]}
    rows = page.get_by_test_id("query-row")
    for row, query in ((0, "0"), (1, "20")):
        ball = rows.nth(row).get_by_test_id("curve-ball")
        playwright_api.expect(ball).to_have_count(1)
        assert int(ball.get_attribute("data-rank")) == rank_in[query]
    caption = rows.nth(0).get_by_test_id("strip-caption")
    playwright_api.expect(caption).to_contain_text(f"rank {rank_in['0']}")
    _, sims = server_ranking(server_url, "0")
    playwright_api.expect(caption).to_contain_text(f"{sims[rank_in['0']]:.4f}")
    shot(page, "05-hover-balls")


def test_click_in_strip_adds_a_query_and_delete_removes_one(page: Any, server_url: str) -> None:
    add_two_queries(page, server_url, 0, 20)
    # Pick a strip image that is not already a query (clicking a query only activates its row).
    shown = [i for i, _ in strip(page, 1) if i not in (0, 20)]
    picked = str(shown[2])
    page.get_by_test_id("query-row").nth(1).locator(f'[data-testid="strip-image"][data-id="{picked}"]').click()
    rows = page.get_by_test_id("query-row")
    playwright_api.expect(rows).to_have_count(3)
    assert rows.nth(2).get_attribute("data-ref") == f"i{picked}"
    rows.nth(0).get_by_test_id("delete-query").click()
    playwright_api.expect(rows).to_have_count(2)
    assert [rows.nth(i).get_attribute("data-ref") for i in range(2)] == ["i20", f"i{picked}"]
    playwright_api.expect(page.get_by_test_id("overlay-chart")).to_have_attribute("data-curves", "1,2")  # colours stay with their queries
    rows.nth(1).get_by_test_id("move-up").click()
    playwright_api.expect(rows.nth(0)).to_have_attribute("data-ref", f"i{picked}")
    playwright_api.expect(page.get_by_test_id("spearman")).to_contain_text("ρ")
    page.get_by_test_id("clear-queries").click()
    playwright_api.expect(rows).to_have_count(0)


def test_linked_brushes_move_every_row(page: Any, server_url: str) -> None:
    add_two_queries(page, server_url, 0, 20)
    page.get_by_test_id("link-toggle").check()
    n = json.loads(get(f"{server_url}api/project"))["n"]
    width = len(strip(page, 0))
    drag_brush(page, 1, width / 2, width / 2 + 4, n)
    assert [r for _, r in strip(page, 0)] == [r for _, r in strip(page, 1)]
    assert strip(page, 0)[0][1] == 4
    assert "l=1" in page.evaluate("location.hash")
    shot(page, "06-linked")
    page.get_by_test_id("link-toggle").uncheck()
    drag_brush(page, 1, 4 + width / 2, width / 2, n)
    assert strip(page, 1)[0][1] == 0
    assert strip(page, 0)[0][1] == 4


def _png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (50, 40), colour).save(buf, format="PNG")
    return buf.getvalue()


def test_upload_an_image_as_a_query_and_see_a_clear_error_for_a_bad_file(page: Any, server_url: str) -> None:
    upload = page.get_by_test_id("upload-input")
    upload.set_input_files(files=[{"name": "green.png", "mimeType": "image/png", "buffer": _png((30, 200, 40))}])
    rows = page.get_by_test_id("query-row")
    playwright_api.expect(rows).to_have_count(1)
    ref = rows.nth(0).get_attribute("data-ref")
    assert ref.startswith("u")
    playwright_api.expect(rows.nth(0).get_by_test_id("strip-image").first).to_be_visible()
    ids, _ = server_ranking(server_url, f"upload/{ref[1:]}")
    shown = strip(page, 0)
    assert [i for i, _ in shown] == ids[: len(shown)].tolist()
    labels = json.loads(get(f"{server_url}api/project"))["labels"]
    top = json.loads(get(f"{server_url}api/images/{shown[0][0]}"))
    assert top["label"] == "green" and "green" in labels
    shot(page, "07-upload")

    upload.set_input_files(files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"this is not an image"}])
    error = page.get_by_test_id("error-message")
    playwright_api.expect(error).to_be_visible()
    playwright_api.expect(error).to_contain_text("notes.png")
    playwright_api.expect(rows).to_have_count(1)
    shot(page, "08-upload-error")


def test_reload_keeps_queries_windows_and_settings(page: Any, server_url: str) -> None:
    add_two_queries(page, server_url, 3, 17)
    n = json.loads(get(f"{server_url}api/project"))["n"]
    width = len(strip(page, 1))
    drag_brush(page, 1, width / 2, width / 2 + 5, n)
    page.get_by_test_id("strip-size").select_option("32")
    page.get_by_test_id("fit-toggle").check()
    before = (strip(page, 0), strip(page, 1))
    hash_before = page.evaluate("location.hash")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    rows = page.get_by_test_id("query-row")
    playwright_api.expect(rows).to_have_count(2)
    playwright_api.expect(rows.nth(1).get_by_test_id("strip-image").first).to_be_visible()
    assert page.evaluate("location.hash") == hash_before
    assert (strip(page, 0), strip(page, 1)) == before
    assert page.get_by_test_id("fit-toggle").is_checked()
    assert rows.nth(0).get_by_test_id("strip-image").first.get_attribute("width") == "32"
    shot(page, "09-reloaded")


def test_pane_resize_refits_the_map(page: Any, server_url: str) -> None:
    canvas = page.get_by_test_id("map-canvas")
    before = canvas.bounding_box()["width"]
    handle = page.get_by_test_id("pane-splitter").bounding_box()
    y = handle["y"] + handle["height"] / 2
    page.mouse.move(handle["x"] + 3, y)
    page.mouse.down()
    page.mouse.move(handle["x"] - 250, y, steps=5)
    page.mouse.up()
    page.wait_for_timeout(200)
    after = canvas.bounding_box()["width"]
    assert after < before - 200
    # Still fitted: clicking where image 7 now is adds image 7.
    page.mouse.click(*cell_centre(page, server_url, 7))
    playwright_api.expect(page.get_by_test_id("query-row")).to_have_count(1)
    assert page.get_by_test_id("query-row").get_attribute("data-ref") == "i7"
    assert "p=0." in page.evaluate("location.hash")
    shot(page, "10-resized")
