"""The web app: an HTTP API over one project plus the built front end (imported only by `deepviz serve`)."""
from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    # FastAPI and uvicorn load only when the app is really made, not when a submodule is imported.
    if name == "create_app":
        from deepviz.server.app import create_app

        return create_app
    if name == "serve":
        from deepviz.server.run import serve

        return serve
    raise AttributeError(f"module 'deepviz.server' has no attribute {name!r}")
