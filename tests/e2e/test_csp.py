"""The page and the API docs work under the server's Content-Security-Policy: Chromium reports no
violation while a person uses them, and neither loads anything from another server."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deepviz.server.headers import CONTENT_SECURITY_POLICY
from tests.e2e.chromium import NEEDS_BROWSER
from tests.e2e.test_app import _png, add_two_queries, cell_centre

pytestmark = NEEDS_BROWSER

playwright_api = pytest.importorskip("playwright.sync_api")

# Collects what the browser reports; added before any of the page's own scripts run.
_COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watched:
    """A page with every CSP violation, console complaint, page error and request recorded."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.add_init_script(_COLLECT)
        page.on("console", lambda m: self.console.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))

    def violations(self) -> list[str]:
        return list(self.page.evaluate("window.__csp")) + self.console


@pytest.fixture
def watched(browser: Any, server_url: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    yield Watched(context.new_page())
    context.close()


def test_the_app_runs_under_the_policy_without_a_violation(watched: Watched, server_url: str) -> None:
    page = watched.page
    response = page.goto(server_url)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    page.wait_for_selector("body[data-ready=true]")
    page.mouse.move(*cell_centre(page, server_url, 5))
    playwright_api.expect(page.get_by_test_id("hover-preview")).to_be_visible()
    add_two_queries(page, server_url, 0, 20)
    page.get_by_test_id("query-row").nth(0).get_by_test_id("strip-image").nth(2).hover()
    playwright_api.expect(page.get_by_test_id("curve-ball")).to_have_count(4)
    page.get_by_test_id("map-size").select_option("128")
    page.get_by_test_id("label-toggle").check()
    page.get_by_test_id("links-toggle").check()
    page.get_by_test_id("upload-input").set_input_files(files=[{"name": "g.png", "mimeType": "image/png", "buffer": _png((30, 200, 40))}])
    playwright_api.expect(page.get_by_test_id("query-row")).to_have_count(3)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    playwright_api.expect(page.get_by_test_id("query-row")).to_have_count(3)
    page.wait_for_timeout(300)  # let late thumbnails and redraws land
    assert watched.violations() == []
    assert watched.errors == []
    assert all(url.startswith((server_url, "data:", "blob:")) for url in watched.requests), watched.requests


def test_the_api_docs_render_offline_under_the_policy(watched: Watched, server_url: str) -> None:
    page = watched.page
    page.goto(server_url + "api/docs")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#endpoints .endpoint").count() >= 10
    playwright_api.expect(page.locator("#endpoints")).to_contain_text("/api/queries/upload")
    playwright_api.expect(page.locator("#schemas")).to_contain_text("ProjectInfo")
    assert watched.violations() == []
    assert watched.errors == []
    assert all(url.startswith((server_url, "data:")) for url in watched.requests), watched.requests


def test_a_violation_would_be_seen(watched: Watched, server_url: str) -> None:
    """The collector is not blind: an inline script and a style attribute are blocked and reported."""
    page = watched.page
    page.goto(server_url + "api/docs")
    page.wait_for_selector("body[data-ready=true]")
    page.evaluate(
        """() => {
          const s = document.createElement("script"); s.textContent = "window.ran = 1"; document.body.appendChild(s);
          const d = document.createElement("div"); d.setAttribute("style", "color: red"); document.body.appendChild(d);
        }"""
    )
    page.wait_for_timeout(200)
    found = watched.violations()
    assert page.evaluate("window.ran") is None
    assert any("script-src" in v for v in found) and any("style-src" in v for v in found), found
