"""The API docs at /api/docs, served offline: a small page of our own renders the OpenAPI document.

FastAPI's Swagger UI page loads its script from a CDN and starts it with an inline script,
so it fails offline and under the server's CSP; this page needs neither.
"""
from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

__all__ = ["DOCS_PATH", "add_docs"]

DOCS_PATH = "/api/docs"
_PAGE = Path(__file__).parent / "docs_page"
_ASSETS = {"docs.js": "text/javascript", "docs.css": "text/css"}


def add_docs(app: FastAPI) -> None:
    """Add the docs page and its two assets; call before a catch-all route under /api takes the paths."""

    @app.get(DOCS_PATH, response_class=HTMLResponse, include_in_schema=False)
    def docs_page(request: Request) -> HTMLResponse:
        root = html.escape(str(request.scope.get("root_path", "")).rstrip("/"), quote=True)
        return HTMLResponse((_PAGE / "index.html").read_text(encoding="utf-8").replace("{root}", root))

    @app.get(DOCS_PATH + "/{name}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        if name not in _ASSETS:
            raise HTTPException(404, f"no docs asset {name!r}; the docs are at {DOCS_PATH}")
        return FileResponse(_PAGE / name, media_type=_ASSETS[name])
