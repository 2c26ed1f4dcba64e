"""Save a session as a file, open it on a fresh page: the same queries and windows come back."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.chromium import NEEDS_BROWSER
from tests.e2e.test_app import playwright_api

pytestmark = NEEDS_BROWSER


def _page(browser: Any, url: str) -> tuple[Any, list[str]]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    return page, errors


def test_a_saved_session_restores_queries_and_windows(browser: Any, server_url: str, tmp_path: Path) -> None:
    page, errors = _page(browser, server_url + "#q=i3,i7")
    playwright_api.expect(page.get_by_test_id("query-row")).to_have_count(2)
    state = page.evaluate("location.hash")
    page.get_by_test_id("session-menu").click()
    with page.expect_download() as download:
        page.get_by_test_id("session-save").click()
    saved = tmp_path / "session.json"
    download.value.save_as(saved)
    session = json.loads(saved.read_text())
    assert session["state"] == state and session["project"]["n"] == 24
    page.context.close()

    fresh, errors2 = _page(browser, server_url)
    playwright_api.expect(fresh.get_by_test_id("query-row")).to_have_count(0)
    fresh.get_by_test_id("session-load").set_input_files(str(saved))
    playwright_api.expect(fresh.get_by_test_id("query-row")).to_have_count(2)
    fresh.wait_for_function("s => location.hash === s", arg=state)
    assert fresh.evaluate("document.body.dataset.queries") == "i3,i7"
    playwright_api.expect(fresh.get_by_test_id("error-message")).to_be_hidden()

    # The same session on another build of the project says what no longer matches.
    other = dict(session, project=dict(session["project"], revision="elsewhere", n=30))
    (tmp_path / "other.json").write_text(json.dumps(other))
    fresh.get_by_test_id("session-load").set_input_files(str(tmp_path / "other.json"))
    message = fresh.get_by_test_id("error-message")
    playwright_api.expect(message).to_contain_text("had 30 images and has 24 now")
    # And a file that is not a session is refused with what to do.
    (tmp_path / "notes.json").write_text("not json")
    fresh.get_by_test_id("session-load").set_input_files(str(tmp_path / "notes.json"))
    playwright_api.expect(message).to_contain_text("not a deepviz session")
    assert fresh.evaluate("document.body.dataset.queries") == "i3,i7"
    fresh.context.close()
    assert not errors and not errors2, errors + errors2


def test_the_share_menu_downloads_a_figure_of_the_queries(browser: Any, server_url: str, tmp_path: Path) -> None:
    page, errors = _page(browser, server_url)
    page.get_by_test_id("session-menu").click()
    page.get_by_test_id("figure-svg").click()
    playwright_api.expect(page.get_by_test_id("error-message")).to_contain_text("click an image on the map first")
    page.goto(server_url + "#q=i3:0:0-5,i7:1:2-4")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    playwright_api.expect(page.get_by_test_id("query-row")).to_have_count(2)
    page.get_by_test_id("session-menu").click()
    with page.expect_download() as download:
        page.get_by_test_id("figure-svg").click()
    assert download.value.suggested_filename.endswith("-figure.svg")
    saved = tmp_path / "fig.svg"
    download.value.save_as(saved)
    text = saved.read_text()
    assert 'id="curve-1"' in text and 'id="window-1"' in text and 'id="strip-0"' in text
    page.context.close()
    assert not errors, errors


def _api(url: str, method: str = "GET", body: object = None) -> Any:
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:  # noqa: S310 (local test server)
        text = res.read()
    return json.loads(text) if text else None


def test_a_session_keeps_the_concepts_and_offers_to_restore_them(browser: Any, server_url: str, tmp_path: Path) -> None:
    _api(server_url + "api/concepts/session-test", "PUT", {"ids": [1, 2, 5], "source": "lasso"})
    try:
        page, errors = _page(browser, server_url + "#q=i3")
        page.get_by_test_id("session-menu").click()
        with page.expect_download() as download:
            page.get_by_test_id("session-save").click()
        saved = tmp_path / "session.json"
        download.value.save_as(saved)
        session = json.loads(saved.read_text())
        assert {"name": "session-test", "ids": [1, 2, 5], "source": "lasso"} in session["concepts"]
        # The project's concept changes; opening the session asks, and a yes puts the session's back.
        _api(server_url + "api/concepts/session-test", "PUT", {"ids": [7], "source": ""})
        questions: list[str] = []
        page.on("dialog", lambda d: (questions.append(d.message), d.accept()))
        page.get_by_test_id("session-load").set_input_files(str(saved))
        playwright_api.expect(page.get_by_test_id("error-message")).to_contain_text("Restored 1 concept(s)")
        assert "“session-test” has 1 images here and 3 in the session" in questions[0]
        concepts = {c["name"]: c["ids"] for c in _api(server_url + "api/concepts")}
        assert concepts["session-test"] == [1, 2, 5]
        page.context.close()
        assert not errors, errors
    finally:
        _api(server_url + "api/concepts/session-test", "DELETE")
