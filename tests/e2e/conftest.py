"""The browser tests' shared fixtures: one server of the tiny project and one Chromium per module."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ColourExtractor, live_server
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def server_url(tiny_project: Path) -> Iterator[str]:
    from deepviz.server.app import create_app

    with live_server(create_app(tiny_project, embedder=ColourExtractor())) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
