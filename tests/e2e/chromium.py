"""Debian's Chromium for the browser tests: where it is, how it is started, and when the tests may skip."""
from __future__ import annotations

import os
from pathlib import Path

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
