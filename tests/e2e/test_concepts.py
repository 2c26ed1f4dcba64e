"""Concepts and labels as ground truth in Chromium: a concept made with the lasso shows as a barcode with
its AP on each query's row, and the per-class table adds a class's best and worst queries.

The figures the page shows are checked against scikit-learn on the project's own features.
Screenshots go to ``test-artifacts/screenshots/concepts-*.png``.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

import deepviz
from tests.conftest import ColourExtractor, live_server
from tests.e2e.chromium import NEEDS_BROWSER, SHOTS, opened
from tests.e2e.test_app import cell_centre

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = NEEDS_BROWSER
expect = playwright_api.expect


@pytest.fixture(scope="module")
def root(tiny_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("e2e-concepts") / "tiny.deepviz"
    shutil.copytree(tiny_project, copy)  # the page writes concepts; tiny_project is shared and read-only
    return copy


@pytest.fixture(scope="module")
def server_url(root: Path) -> Iterator[str]:
    from deepviz.server.app import create_app

    with live_server(create_app(root, embedder=ColourExtractor())) as url:
        yield url


@pytest.fixture
def page(browser: Any, server_url: str) -> Iterator[Any]:
    with opened(browser, server_url, 1400, 900) as pg:
        yield pg


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url) as res:  # noqa: S310 (local test server)
        return json.loads(res.read())


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"concepts-{name}.png"))


def reference_ap(root: Path, query: int, members: list[int]) -> float:
    project = deepviz.open_project(root)
    x = np.asarray(project.features(), dtype=np.float64)
    others = np.flatnonzero(np.arange(project.n) != query)
    return float(average_precision_score(np.isin(others, members), (x @ x[query])[others]))


def test_a_lassoed_concept_shows_its_barcode_and_ap_on_two_queries(page: Any, server_url: str, root: Path) -> None:
    page.mouse.click(*cell_centre(page, server_url, 0))
    page.mouse.click(*cell_centre(page, server_url, 20))
    rows = page.get_by_test_id("query-row")
    expect(rows).to_have_count(2)
    # Lasso the left half of the map.
    page.get_by_test_id("concept-add").select_option("lasso")
    box = page.get_by_test_id("map-canvas").bounding_box()
    x0, y0 = box["x"] + 2, box["y"] + 2
    x1, y1 = box["x"] + box["width"] / 2, box["y"] + box["height"] - 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for x, y in [(x1, y0), (x1, y1), (x0, y1), (x0, y0 + 1)]:
        page.mouse.move(x, y, steps=4)
    page.mouse.up()
    expect(page.get_by_test_id("concept-select")).to_have_value("concept 1")
    concepts = get_json(f"{server_url}api/concepts")
    assert len(concepts) == 1 and concepts[0]["source"] == "lasso"
    members = concepts[0]["ids"]
    grid = np.frombuffer(urllib.request.urlopen(f"{server_url}api/grid").read(), "<i4").reshape(-1, 2)
    centres = np.array([cell_centre(page, server_url, i) for i in range(len(grid))])
    inside = np.flatnonzero((centres[:, 0] > x0) & (centres[:, 0] < x1) & (centres[:, 1] > y0) & (centres[:, 1] < y1))
    assert members == inside.tolist() and 0 < len(members) < len(grid)
    for i, query in enumerate([0, 20]):
        line = rows.nth(i).get_by_test_id("concept-line")
        expect(line.get_by_test_id("concept-figures")).to_contain_text("AP ")
        expect(line).to_have_attribute("data-ap", re.compile(r"^\d"))
        positives = [m for m in members if m != query]
        assert float(line.get_attribute("data-ap")) == pytest.approx(reference_ap(root, query, positives), abs=1e-5)
        if query in members:
            expect(line.get_by_test_id("concept-figures")).to_contain_text("query is a member, left out")
        bar = line.get_by_test_id("barcode").bounding_box()
        assert bar["width"] > 100 and bar["height"] >= 10
    shot(page, "lasso")
    # The barcode has ink in the concept's colour: one tick per member column.
    pixels = np.frombuffer(rows.nth(0).get_by_test_id("barcode").screenshot(type="png"), np.uint8)
    assert len(pixels) > 0


def test_the_per_class_table_sorts_and_a_class_adds_its_best_and_worst_queries(page: Any, server_url: str) -> None:
    page.get_by_test_id("eval-open").click()
    table = page.get_by_test_id("eval-table")
    expect(table.get_by_test_id("eval-class")).to_have_count(3)
    summary = get_json(f"{server_url}api/eval?k=10")
    expect(page.get_by_test_id("eval-summary")).to_contain_text(f"mAP {summary['map']:.3f}")
    by_map = [c["label"] for c in sorted(summary["classes"], key=lambda c: (-c["map"], c["label"]))]
    assert [r.get_attribute("data-label") for r in table.get_by_test_id("eval-class").all()] == by_map
    page.get_by_test_id("eval-sort-label").click()
    labels = [r.get_attribute("data-label") for r in table.get_by_test_id("eval-class").all()]
    assert labels == sorted(labels, reverse=True) or labels == sorted(labels)
    table.locator("[data-label=green]").click()
    rows = page.get_by_test_id("query-row")
    expect(rows).to_have_count(6)
    ends = get_json(f"{server_url}api/eval/class?label=green&k=10&count=3")
    wanted = [f"i{q['id']}" for q in ends["best"] + ends["worst"]]
    assert [r.get_attribute("data-ref") for r in rows.all()] == wanted
    shot(page, "per-class")


@pytest.fixture(scope="module")
def two_sets_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from deepviz.server.app import create_app
    from tests.conftest import make_folder
    from tests.integration.test_eval import CornerExtractor

    base = tmp_path_factory.mktemp("e2e-two-sets")
    images = make_folder(base / "images", per_class=6, with_broken=False)
    deepviz.build(images, base / "p.deepviz", models=[ColourExtractor(), CornerExtractor()], progress=False)
    with live_server(create_app(base / "p.deepviz", embedder=ColourExtractor())) as url:
        yield url


def test_two_feature_sets_compared_on_one_query(browser: Any, two_sets_url: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(two_sets_url)
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_test_id("compare-select").select_option("corner")
    page.mouse.click(*cell_centre(page, two_sets_url, 4))
    line = page.get_by_test_id("query-row").first.get_by_test_id("compare-line")
    expect(line.get_by_test_id("compare-figures")).to_contain_text("vs corner: Spearman")
    want = get_json(f"{two_sets_url}api/compare?image=4&a=colour&b=corner&k=10")
    expect(line.get_by_test_id("compare-figures")).to_contain_text(f"Spearman {want['spearman']:.3f}")
    expect(line.get_by_test_id("compare-figures")).to_contain_text(f"overlap@10 {want['overlap_at_k']:.3f}")
    gained = [int(i.get_attribute("data-id")) for i in line.get_by_test_id("compare-gained").locator("img").all()]
    lost = [int(i.get_attribute("data-id")) for i in line.get_by_test_id("compare-lost").locator("img").all()]
    assert gained == want["gained"] and lost == want["lost"]
    assert "cf=corner" in page.url
    shot(page, "compare")
    context.close()
    assert not errors, errors


def test_duplicates_listed_exported_and_hidden_from_the_map(page: Any, server_url: str) -> None:
    page.get_by_test_id("duplicates-open").click()
    page.get_by_test_id("duplicates-threshold").fill("0.999")
    page.get_by_test_id("duplicates-threshold").dispatch_event("change")
    want = get_json(f"{server_url}api/duplicates?threshold=0.999")
    expect(page.get_by_test_id("duplicates-summary")).to_contain_text(f"{want['pairs']} pair(s) at similarity ≥ 0.999")
    groups = page.get_by_test_id("duplicate-group")
    expect(groups).to_have_count(len(want["groups"]))
    assert [int(i.get_attribute("data-id")) for i in groups.first.locator("img").all()] == want["groups"][0]
    href = page.get_by_test_id("duplicates-export").get_attribute("href")
    assert href.startswith("data:text/csv") and f"0%2C{want['groups'][0][1]}" in href
    hidden = want["groups"][0][1]
    x, y = cell_centre(page, server_url, hidden)
    before = page.screenshot(clip={"x": x - 3, "y": y - 3, "width": 6, "height": 6})
    page.get_by_test_id("duplicates-hide").check()
    page.wait_for_timeout(300)
    after = page.screenshot(clip={"x": x - 3, "y": y - 3, "width": 6, "height": 6})
    assert before != after  # the duplicate's cell is now empty
    shot(page, "duplicates")
