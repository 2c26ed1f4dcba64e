"""Two feature sets and query expansion in Chromium: paired curves on one row (with the hovered image's
ball on both, at the ranks the server gives), the map coloured by rank difference, the per-class table
comparing the two sets, the expanded query's curve, and the duplicates threshold drawn on the curves.

Screenshots go to ``test-artifacts/screenshots/compare-*.png``.
"""

from __future__ import annotations

import io
import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

import deepviz
from tests.conftest import ColourExtractor, live_server
from tests.e2e.chromium import NEEDS_BROWSER, SHOTS, opened
from tests.e2e.test_app import cell_centre

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = NEEDS_BROWSER
expect = playwright_api.expect

QUERY = 4
PAIRED_GREY = (107, 107, 107)  # compareRows.PAIRED_STYLE


def get(url: str, method: str = "GET") -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, method=method)) as res:  # noqa: S310 (local test server)
        return bytes(res.read())


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"compare-{name}.png"))


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from deepviz.server.app import create_app
    from tests.conftest import make_folder
    from tests.integration.test_eval import CornerExtractor

    base = tmp_path_factory.mktemp("e2e-compare")
    images = make_folder(base / "images", per_class=6, with_broken=False)
    deepviz.build(images, base / "p.deepviz", models=[ColourExtractor(), CornerExtractor()], progress=False)
    with live_server(create_app(base / "p.deepviz", embedder=ColourExtractor())) as served:
        yield served


@pytest.fixture
def page(browser: Any, url: str) -> Iterator[Any]:
    with opened(browser, url, 1400, 900) as pg:
        yield pg


def plot_pixels(row: Any) -> np.ndarray:
    """The row chart's plot area (inside the axes) as (H, W, 3) RGB."""
    chart = row.get_by_test_id("row-chart")
    box = chart.bounding_box()
    clip = {"x": box["x"] + 42, "y": box["y"] + 8, "width": box["width"] - 56, "height": box["height"] - 32}
    png = chart.page.screenshot(clip=clip)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def near(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int = 12) -> int:
    return int(np.count_nonzero(np.abs(pixels - np.array(rgb)).max(axis=2) <= tol))


def rank_of(url: str, ref: str, image: int, features: str) -> int:
    body = get(f"{url}api/ranking/of?q={ref}&ids={image}&features={features}")
    return int(np.frombuffer(body[:4], "<i4")[0])


def hover_balls(page: Any, row: Any) -> tuple[int, dict[str, int]]:
    """Hover the strip's fourth image; the balls on the row's chart by slot, as their ranks."""
    img = row.get_by_test_id("strip-image").nth(3)
    image = int(img.get_attribute("data-id"))
    img.hover()
    balls = row.get_by_test_id("curve-ball")
    expect(balls).to_have_count(2)
    return image, {b.get_attribute("data-slot"): int(b.get_attribute("data-rank")) for b in balls.all()}


def test_paired_curves_on_one_row_with_a_legend_and_both_balls(page: Any, url: str) -> None:
    page.mouse.click(*cell_centre(page, url, QUERY))
    row = page.get_by_test_id("query-row").first
    expect(row.get_by_test_id("strip-image").first).to_be_visible()
    before = near(plot_pixels(row), PAIRED_GREY)
    page.get_by_test_id("compare-select").select_option("corner")
    legend = row.get_by_test_id("row-legend")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("colour")
    expect(legend).to_contain_text("corner")
    expect(row.get_by_test_id("compare-figures")).to_contain_text("vs corner")
    page.wait_for_timeout(300)
    after = near(plot_pixels(row), PAIRED_GREY)
    assert after > before + 50, (before, after)  # the grey dashed curve is drawn in the plot
    image, ranks = hover_balls(page, row)
    assert ranks["0"] == rank_of(url, str(QUERY), image, "colour")
    assert ranks["100000"] == rank_of(url, str(QUERY), image, "corner")
    shot(page, "paired")
    page.get_by_test_id("compare-select").select_option("")
    expect(legend).to_be_hidden()


def test_map_coloured_by_rank_difference(page: Any, url: str) -> None:
    page.get_by_test_id("compare-select").select_option("corner")
    page.mouse.click(*cell_centre(page, url, QUERY))
    expect(page.get_by_test_id("query-row")).to_have_count(1)
    codes = np.frombuffer(get(f"{url}api/compare/rank-difference?image={QUERY}&a=colour&b=corner"), np.uint8)
    same = int(np.flatnonzero(codes == 127)[0]) if np.any(codes == 127) else None
    page.get_by_test_id("compare-map").check()
    legend = page.get_by_test_id("rank-diff-legend")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("colour ranks higher")
    expect(legend).to_contain_text("corner ranks higher")
    page.wait_for_timeout(300)
    def pixel(image: int) -> np.ndarray:
        x, y = cell_centre(page, url, image)
        png = page.screenshot(clip={"x": x - 1, "y": y - 1, "width": 2, "height": 2})
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))[0, 0].astype(int)

    assert pixel(QUERY).max() < 90  # the query's own cell: dark (#222 at 0.85 over its thumbnail)
    if same is not None:
        assert pixel(same).min() > 190  # agreeing ranks: near-white
    shot(page, "rank-difference")
    page.get_by_test_id("compare-map").uncheck()
    expect(legend).to_be_hidden()


def test_per_class_table_compares_the_two_sets(page: Any, url: str) -> None:
    page.get_by_test_id("compare-select").select_option("corner")
    page.get_by_test_id("eval-open").click()
    table = page.get_by_test_id("eval-table")
    expect(table).to_have_attribute("data-paired", "true")
    a = json.loads(get(f"{url}api/eval?k=10&features=colour"))
    b = {c["label"]: c for c in json.loads(get(f"{url}api/eval?k=10&features=corner"))["classes"]}
    expect(page.get_by_test_id("eval-sort-map_b")).to_contain_text("mAP corner")
    rows = table.get_by_test_id("eval-class")
    expect(rows).to_have_count(len(a["classes"]))
    deltas = {c["label"]: b[c["label"]]["map"] - c["map"] for c in a["classes"]}
    page.get_by_test_id("eval-sort-delta").click()
    shown = [r.get_attribute("data-label") for r in rows.all()]
    assert shown == sorted(deltas, key=lambda lab: (-deltas[lab], lab))
    for r in rows.all():
        d = deltas[r.get_attribute("data-label")]
        text = r.get_by_test_id("eval-delta").inner_text()
        assert re.fullmatch(r"[+−±]\d\.\d{3}", text) and float(text[1:]) == pytest.approx(abs(d), abs=6e-4)
    shot(page, "per-class")


def test_expanded_query_curve_on_the_same_row(page: Any, url: str) -> None:
    page.mouse.click(*cell_centre(page, url, QUERY))
    row = page.get_by_test_id("query-row").first
    row.get_by_test_id("qe-k").fill("3")
    row.get_by_test_id("qe-k").dispatch_event("change")
    row.get_by_test_id("qe-toggle").check()
    expect(row.get_by_test_id("row-legend")).to_contain_text("expanded with its top 3")
    key = json.loads(get(f"{url}api/queries/expand?image={QUERY}&k=3&features=colour", method="POST"))["query"]
    image, ranks = hover_balls(page, row)
    assert ranks["100000"] == rank_of(url, f"upload:{key}", image, "colour")
    shot(page, "expansion")


def test_duplicates_threshold_is_a_line_on_the_curves(page: Any, url: str) -> None:
    page.mouse.click(*cell_centre(page, url, QUERY))
    chart = page.get_by_test_id("query-row").first.get_by_test_id("row-chart")
    expect(chart).not_to_have_attribute("data-rule", re.compile("."))
    page.get_by_test_id("duplicates-open").click()
    expect(chart).to_have_attribute("data-rule", "0.99")
    page.get_by_test_id("duplicates-threshold").fill("0.9")
    page.get_by_test_id("duplicates-threshold").dispatch_event("change")
    expect(chart).to_have_attribute("data-rule", "0.9")
    expect(page.get_by_test_id("query-row").first.get_by_test_id("strip-image").first).to_be_visible()
    page.wait_for_timeout(200)
    shot(page, "duplicates-line")
    px = plot_pixels(page.get_by_test_id("query-row").first)
    reddish = (px[..., 0] > px[..., 1] + 60) & (px[..., 0] > px[..., 2] + 40)  # the line, also under the brush's band
    assert int(np.count_nonzero(reddish)) > 100
    page.locator(".duplicates-panel .eval-close").click()
    expect(chart).not_to_have_attribute("data-rule", re.compile("."))


def test_hiding_duplicates_takes_them_out_of_the_rankings(page: Any, url: str) -> None:
    groups = json.loads(get(f"{url}api/duplicates?threshold=0.999&features=colour"))["groups"]
    hidden = {i for g in groups for i in sorted(g)[1:]}
    assert hidden, "the fixture has near-duplicates at 0.999"
    query = next(i for i in range(18) if i not in hidden)
    page.mouse.click(*cell_centre(page, url, query))
    row = page.get_by_test_id("query-row").first
    caption = row.get_by_test_id("strip-caption")
    expect(caption).to_contain_text("of 18")
    page.get_by_test_id("duplicates-open").click()
    page.get_by_test_id("duplicates-threshold").fill("0.999")
    page.get_by_test_id("duplicates-threshold").dispatch_event("change")
    expect(page.get_by_test_id("duplicate-group")).to_have_count(len(groups))
    page.get_by_test_id("duplicates-hide").check()
    expect(caption).to_contain_text(f"of {18 - len(hidden)}")
    body = get(f"{url}api/rank/{query}?features=colour&hide_duplicates=0.999")
    kept = np.frombuffer(body[: 4 * (18 - len(hidden))], "<i4").tolist()
    strip = [int(i.get_attribute("data-id")) for i in row.get_by_test_id("strip-image").all()]
    assert strip == kept[: len(strip)] and not hidden & set(strip)
    shot(page, "duplicates-hidden")
    page.get_by_test_id("duplicates-hide").uncheck()
    expect(caption).to_contain_text("of 18")
