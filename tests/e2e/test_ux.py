"""The query pane at real window sizes (issue 8): a fitted y axis, a brush that can always be
grabbed, a pane share that gives strips room. Drives Debian's Chromium against the tiny project."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.chromium import NEEDS_BROWSER, SHOTS, open_page, opened

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
pytestmark = NEEDS_BROWSER


@pytest.fixture
def page(browser: Any, server_url: str) -> Iterator[Any]:
    with opened(browser, server_url) as pg:
        yield pg


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def strip_ranks(page: Any, row: int = 0) -> list[int]:
    """The ranks the strip shows, read in one go (the strip changes when the server's answer arrives)."""
    images = page.get_by_test_id("query-row").nth(row).get_by_test_id("strip-image")
    ranks: list[int] = images.evaluate_all("els => els.map((e) => Number(e.dataset.rank))")
    return ranks


def settled_strip_ranks(page: Any) -> list[int]:
    """The first row's strip once it shows the window the URL names (its images are fetched after a brush move)."""
    lo = re.search(r"q=i\d+:\d+:(\d+)-", page.evaluate("location.hash"))
    assert lo, page.evaluate("location.hash")
    expect(page.get_by_test_id("query-row").first.get_by_test_id("strip-image").first).to_have_attribute("data-rank", lo[1])
    return strip_ranks(page)


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
    # Padding never takes the axis past 1 (float16 features put the self-similarity a hair over it, 1.0002).
    assert hi <= 1.001 and lo >= -1.0, hi
    # The axis is labelled with the fitted range's ends.
    labels = [t.text_content() for t in chart.locator(".y-axis .tick text").all()]
    assert labels[0] == f"{lo:.2f}" and labels[-1] == f"{hi:.2f}"
    page.get_by_test_id("fit-toggle").uncheck()
    expect(chart).to_have_attribute("data-y-domain", "-1.0000,1.0000")
    assert "y=0" in page.evaluate("location.hash")


@pytest.fixture(scope="module")
def big_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A 5,000-image synthetic project (10 labels, real thumbnails): a window of 4 ranks is under a pixel wide."""
    from bench.synthetic import write_synthetic_project
    from deepviz.server.app import create_app
    from tests.conftest import live_server

    root = write_synthetic_project(tmp_path_factory.mktemp("big") / "big.deepviz", 5000, 32, thumbs=True)
    with live_server(create_app(root)) as url:
        yield url


def grab_and_drag(page: Any, row: int, dx: float) -> None:
    """Press the middle of a row's brush window (its grip when narrow) and drag it `dx` px."""
    brush = page.get_by_test_id("query-row").nth(row).get_by_test_id("curve-brush")
    grip = brush.get_by_test_id("brush-grip")
    target = grip if grip.is_visible() else brush.locator(".selection")
    box = target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y, steps=4)
    page.mouse.move(x + dx, y, steps=4)
    page.mouse.up()


def test_brush_moves_when_its_middle_is_dragged(page: Any, server_url: str) -> None:
    page.goto(f"{server_url}#q=i3:0:4-8")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("strip-image").first).to_be_visible()
    assert strip_ranks(page) == [4, 5, 6, 7]
    overlay = page.get_by_test_id("query-row").first.locator(".brush .overlay").bounding_box()
    grab_and_drag(page, 0, overlay["width"] * 10 / 24)
    expect(page.get_by_test_id("strip-image").first).to_have_attribute("data-rank", "14")
    assert strip_ranks(page) == [14, 15, 16, 17]
    assert "q=i3:0:14-18" in page.evaluate("location.hash")


def test_a_window_under_a_pixel_wide_can_be_grabbed_moved_and_keyed(browser: Any, big_url: str) -> None:
    context, page, errors = open_page(browser, f"{big_url}#q=i7:0:100-104")
    try:
        expect(page.get_by_test_id("strip-image").first).to_have_attribute("data-rank", "100")
        brush = page.get_by_test_id("query-row").first.get_by_test_id("curve-brush")
        grip = brush.get_by_test_id("brush-grip")
        expect(grip).to_be_visible()
        assert grip.bounding_box()["width"] >= 12
        overlay = brush.locator(".overlay").bounding_box()
        grab_and_drag(page, 0, overlay["width"] * 0.3)
        ranks = settled_strip_ranks(page)
        assert len(ranks) == 4 and ranks == list(range(ranks[0], ranks[0] + 4))
        assert abs(ranks[0] - (100 + 0.3 * 5000)) <= 20
        shot(page, "ux-02-narrow-brush-moved")
        brush.focus()
        page.keyboard.press("ArrowRight")
        assert settled_strip_ranks(page) == [r + 1 for r in ranks]
        page.keyboard.press("Shift+ArrowRight")
        assert f"q=i7:0:{ranks[0] + 1}-{ranks[0] + 6}" in page.evaluate("location.hash")
        page.keyboard.press("Home")
        assert settled_strip_ranks(page)[0] == 0
        assert "q=i7:0:0-5" in page.evaluate("location.hash")
    finally:
        context.close()
    assert not errors, errors


def drag_tab(page: Any, side: str, dx: float) -> None:
    """Drag a narrow window's resize tab ("w" or "e") of the first row by `dx` px."""
    tab = page.get_by_test_id("query-row").first.get_by_test_id(f"brush-tab-{side}")
    expect(tab).to_be_visible()
    box = tab.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y, steps=4)
    page.mouse.move(x + dx, y, steps=4)
    page.mouse.up()


def window_in_url(page: Any) -> tuple[int, int]:
    lo, hi = page.evaluate("location.hash").split("q=i7:0:")[1].split("&")[0].split("-")
    return int(lo), int(hi)


def test_a_narrow_window_has_resize_tabs_on_both_sides(browser: Any, big_url: str) -> None:
    """The grip covers d3's edge handles: the tabs beside it resize one edge, the other stays."""
    context, page, errors = open_page(browser, f"{big_url}#q=i7:0:100-104")
    try:
        expect(page.get_by_test_id("strip-image").first).to_have_attribute("data-rank", "100")
        brush = page.get_by_test_id("query-row").first.get_by_test_id("curve-brush")
        overlay = brush.locator(".overlay").bounding_box()
        grip = brush.get_by_test_id("brush-grip").bounding_box()
        west, east = (brush.get_by_test_id(f"brush-tab-{s}").bounding_box() for s in "we")
        assert west["x"] + west["width"] <= grip["x"] + 0.5 and east["x"] >= grip["x"] + grip["width"] - 0.5
        assert west["width"] >= 8 and east["width"] >= 8
        shot(page, "ux-02b-narrow-brush-tabs")
        drag_tab(page, "e", overlay["width"] * 0.1)  # about 500 ranks to the right
        lo, hi = window_in_url(page)
        assert lo == 100 and abs(hi - (104 + 500)) <= 25, (lo, hi)
        expect(brush.get_by_test_id("brush-tab-e")).to_be_hidden()  # wide now: d3's own handles
        page.goto(f"{big_url}#q=i7:0:100-104")
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        drag_tab(page, "w", -overlay["width"] * 0.01)  # about 50 ranks to the left
        lo, hi = window_in_url(page)
        assert hi == 104 and abs(lo - 50) <= 10, (lo, hi)
        assert strip_ranks(page)[0] == lo
    finally:
        context.close()
    assert not errors, errors


def wraps(page: Any, selector: str) -> list[str]:
    """Texts of the elements matching `selector` laid out on more than one line, or overflowing."""
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].filter((el) => {
            const r = el.getBoundingClientRect();
            const lh = parseFloat(getComputedStyle(el).lineHeight) || 16;
            return r.height > 1.6 * lh || el.scrollWidth > el.clientWidth + 1;
        }).map((el) => el.textContent)""",
        selector,
    )


@pytest.mark.parametrize("size", [(1280, 720), (1440, 900), (1920, 1080), (2560, 1440)])
def test_layout_at_real_window_sizes(browser: Any, server_url: str, size: tuple[int, int]) -> None:
    width, height = size
    context, page, errors = open_page(browser, f"{server_url}#q=i3:0:-,i17:1:-", width, height)
    try:
        rows = page.get_by_test_id("query-row")
        expect(rows).to_have_count(2)
        expect(rows.nth(1).get_by_test_id("strip-image").first).to_be_visible()
        expect(page.locator(".spearman").first).to_be_visible()
        shot(page, f"ux-03-layout-{width}x{height}")
        if width >= 1440:
            # The tiny project has 24 images: a strip of 8 or more is a full one.
            assert len(strip_ranks(page, 0)) >= 8
        assert not wraps(page, ".spearman, .strip-caption, .toolbar label, .toolbar button, .query-label")
        toolbars = page.locator(".toolbar").all()
        heights = [t.bounding_box()["height"] for t in toolbars]
        assert max(heights) < 45, f"a toolbar wraps onto a second line: {heights}"
    finally:
        context.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def million_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A synthetic project of 1,000,000 images (grey, empty thumbnails): only rankings matter here."""
    from bench.synthetic import write_synthetic_project
    from deepviz.server.app import create_app
    from tests.conftest import live_server

    root = write_synthetic_project(tmp_path_factory.mktemp("million") / "m.deepviz", 1_000_000, 16)
    with live_server(create_app(root)) as url:
        yield url


def log_x(rank_position: float, n: int, width: float) -> float:
    """rankScale.positionToX on a log axis."""
    import math

    return math.log1p(rank_position) / math.log1p(n) * width


def test_log_rank_axis_at_a_million(browser: Any, million_url: str) -> None:
    n = 1_000_000
    context, page, errors = open_page(browser, f"{million_url}#q=i7:0:10-14")
    try:
        row = page.get_by_test_id("query-row").first
        expect(row.get_by_test_id("strip-image").first).to_have_attribute("data-rank", "10", timeout=20_000)
        expect(page.get_by_test_id("log-toggle")).to_be_checked()
        for chart in (row.get_by_test_id("row-chart"), page.get_by_test_id("overlay-chart")):
            expect(chart).to_have_attribute("data-rank-scale", "log")
        # The head has real width: the window of ranks 10-14 is drawn about where log1p puts it.
        overlay = row.locator(".brush .overlay").bounding_box()
        sel = row.locator(".brush .selection").bounding_box()
        assert abs(sel["x"] - overlay["x"] - log_x(10, n, overlay["width"])) < 2
        assert sel["width"] > 3
        # Hovering a strip image puts the row's and the overlay's balls at its rank on the log axis.
        image = row.get_by_test_id("strip-image").nth(2)
        image.hover()
        ball = row.locator("[data-testid=curve-ball]")
        expect(ball).to_have_attribute("data-rank", "12")
        cx = float(ball.get_attribute("cx"))
        assert abs(cx - log_x(12.5, n, overlay["width"])) < 1
        expect(page.get_by_test_id("overlay-chart").locator("[data-testid=curve-ball]")).to_have_attribute("data-rank", "12")
        # The brush works on the head: drag it right until it starts near rank 100.
        target = log_x(100, n, overlay["width"]) - log_x(10, n, overlay["width"])
        grab_and_drag(page, 0, target)
        first = int(row.get_by_test_id("strip-image").first.get_attribute("data-rank"))
        assert 85 <= first <= 115, first
        assert f"q=i7:0:{first}-{first + 4}" in page.evaluate("location.hash"), "moving keeps the width in ranks"
        shot(page, "ux-04-log-axis-1M")
    finally:
        context.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def labels70_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A built project of 70 labels (folders label_00 … label_69), label k holding 1 + k % 3 images."""
    import deepviz
    from deepviz.server.app import create_app
    from tests.conftest import ColourExtractor, live_server, write_image

    base = tmp_path_factory.mktemp("labels70")
    for k in range(70):
        for j in range(1 + k % 3):
            write_image(
                base / "images" / f"label_{k:02d}" / f"img_{j}.png", ((k * 37) % 256, (k * 91) % 256, (j * 80) % 256), size=(32, 32)
            )
    out = base / "l70.deepviz"
    deepviz.build(base / "images", out, models=[ColourExtractor()], progress=False)
    with live_server(create_app(out, embedder=ColourExtractor())) as url:
        yield url


def test_legend_lists_every_label_with_its_count(browser: Any, labels70_url: str) -> None:
    context, page, errors = open_page(browser, f"{labels70_url}#b=1&q=i5:0:-")
    try:
        legend = page.get_by_test_id("legend")
        expect(legend).to_be_visible()
        expect(legend.locator("summary")).to_have_text("70 labels")
        legend.locator("summary").click()
        items = page.get_by_test_id("legend-item")
        expect(items).to_have_count(70)
        assert items.nth(0).text_content() == "label_001"
        assert items.nth(69).text_content() == "label_691"
        assert items.nth(68).text_content() == "label_683"
        # The list scrolls inside the window; its last label can be scrolled to and seen.
        items.nth(69).scroll_into_view_if_needed()
        expect(items.nth(69)).to_be_in_viewport()
        # 70 distinct (hue, pattern) styles; the swatch shows the pattern (stripes past the first ten).
        styles = [i.get_attribute("data-label-style") for i in items.all()]
        assert len(set(styles)) == 70 and not any(s.startswith("#111111") for s in styles)
        swatch = items.nth(15).locator(".legend-swatch")
        assert "repeating-linear-gradient" in swatch.evaluate("(el) => getComputedStyle(el).backgroundImage")
        # The open legend stays inside the map pane: it does not cover the query pane.
        listed = page.get_by_test_id("legend-list").bounding_box()
        splitter = page.get_by_test_id("pane-splitter").bounding_box()
        assert listed["x"] >= 0 and listed["x"] + listed["width"] <= splitter["x"], (listed, splitter)
        shot(page, "ux-05-legend-70-labels")
        # Zoomed in, the map's borders show the same patterns.
        page.get_by_test_id("map-size").select_option("64")
        page.wait_for_timeout(600)
        shot(page, "ux-05b-label-patterns-64px")
    finally:
        context.close()
    assert not errors, errors


def _png(colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buf, format="PNG")
    return buf.getvalue()


def test_query_rows_and_hover_cards_name_their_images(page: Any, server_url: str) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{server_url}api/images/3") as res:  # noqa: S310 (local test server)
        info = json.loads(res.read())
    page.goto(f"{server_url}#q=i3:0:-")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    row = page.get_by_test_id("query-row").first
    expect(row.get_by_test_id("query-name")).to_have_text(info["path"].split("/")[-1])
    expect(row.get_by_test_id("query-label")).to_have_text(f"label {info['label']}")
    assert row.get_by_test_id("query-name").get_attribute("title") == info["path"]
    # Hovering a strip image shows a card with that image's path and label.
    image = row.get_by_test_id("strip-image").nth(1)
    image_id = image.get_attribute("data-id")
    with urllib.request.urlopen(f"{server_url}api/images/{image_id}") as res:  # noqa: S310
        other = json.loads(res.read())
    image.hover()
    card = page.get_by_test_id("hover-preview")
    expect(card).to_be_visible()
    expect(card).to_contain_text(other["path"])
    expect(card).to_contain_text(f"label {other['label']}")
    # An upload is named by the file the user chose.
    page.get_by_test_id("upload-input").set_input_files(
        files=[{"name": "my green square.png", "mimeType": "image/png", "buffer": _png((30, 200, 40))}]
    )
    rows = page.get_by_test_id("query-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).get_by_test_id("query-name")).to_have_text("my green square.png")
    shot(page, "ux-06-query-names")
    # The server keeps the name with the upload: a reload still shows it.
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("query-row").nth(1).get_by_test_id("query-name")).to_have_text("my green square.png")


def test_bad_url_parameters_are_normalised(browser: Any, server_url: str) -> None:
    context, page, errors = open_page(browser, f"{server_url}#s=7&p=5&m=999&b=banana&y=maybe&zz=1&q=i3:0:-,i17:1:50-99")
    try:
        expect(page.get_by_test_id("query-row").first.get_by_test_id("strip-image").first).to_be_visible()
        params = dict(part.split("=", 1) for part in page.evaluate("location.hash")[1:].split("&"))
        assert params["s"] == "64" and params["m"] == "fit" and params["b"] == "0" and params["y"] == "1"
        assert "zz" not in params
        assert float(params["p"]) < 0.6, "p=5 reads as the first-visit share, not the 85 % extreme"
        assert len(strip_ranks(page)) >= 8
        # A window past the last of the 24 ranks is shown clamped into the ranking.
        expect(page.get_by_test_id("query-row").nth(1).get_by_test_id("strip-image").first).to_be_visible()
        assert strip_ranks(page, 1)[-1] == 23
        assert page.locator(".query-pane").bounding_box()["width"] >= 700
    finally:
        context.close()
    assert not errors, errors


def test_an_empty_project_says_so(browser: Any, server_url: str) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{server_url}api/project") as res:  # noqa: S310 (local test server)
        project = json.loads(res.read())
    empty = {**project, "n": 0, "labels": [], "grid": {**project["grid"], "rows": 0, "cols": 0}}
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/api/project", lambda r: r.fulfill(status=200, content_type="application/json", body=json.dumps(empty)))
    for path in ("grid", "labels"):
        page.route(f"**/api/{path}", lambda r: r.fulfill(status=200, content_type="application/octet-stream", body=b""))
    try:
        page.goto(server_url)
        page.wait_for_selector("body[data-ready=empty]")
        notice = page.get_by_test_id("empty-project")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("has no images")
        expect(notice).to_contain_text("deepviz build")
        assert page.get_by_test_id("map-canvas").count() == 0
        shot(page, "ux-07-empty-project")
    finally:
        context.close()
    assert not errors, errors


def test_a_resize_drops_the_hover_card(page: Any, server_url: str) -> None:
    page.goto(f"{server_url}#q=i3:0:-")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_test_id("strip-image").nth(1).hover()
    card = page.get_by_test_id("hover-preview")
    expect(card).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 720})
    expect(card).to_be_hidden()
