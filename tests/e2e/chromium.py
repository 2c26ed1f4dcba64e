"""Debian's Chromium for the browser tests: where it is, how it is started, and when the tests may skip."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
STATIC = ROOT / "deepviz" / "server" / "static"
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Outside CI a developer without Chromium may skip these; in CI (.ci/run installs it) they must run.
_MAY_SKIP = not os.environ.get("CI")
NEEDS_BROWSER = [
    pytest.mark.skipif(
        _MAY_SKIP and not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
    pytest.mark.skipif(
        _MAY_SKIP and not (STATIC / "index.html").is_file(), reason="front end not built (cd web && npm ci && npm run build)"
    ),
]


def open_page(browser: Any, url: str, width: int = 1440, height: int = 900) -> tuple[Any, Any, list[str]]:
    """A new context of that viewport with ``url`` loaded and ready; the page's uncaught errors are listed."""
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(url)
    pg.wait_for_selector("body[data-ready=true]")
    return context, pg, errors


@contextmanager
def opened(browser: Any, url: str, width: int = 1440, height: int = 900) -> Iterator[Any]:
    """``open_page`` for a with block: closes the context after it and fails on any uncaught page error."""
    context, pg, errors = open_page(browser, url, width, height)
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
