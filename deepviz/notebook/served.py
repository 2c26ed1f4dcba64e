"""The app behind the notebook widget: one server per project in the kernel, on loopback, that notebook pages may frame.

Python adds queries through the server's own HTTP endpoints (an image file is an upload, a text a
text query), so a query made in Python is embedded exactly as one made on the page.
"""
from __future__ import annotations

import io
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepviz.core.normalize import l2_normalize
from deepviz.errors import DeepvizError, UsageError
from deepviz.server.app import ServerState, create_app
from deepviz.server.text_query import text_thumbnail
from deepviz.server.uploads import upload_key
from deepviz.storage.project import Project

__all__ = ["NOTEBOOK_FRAMERS", "Served", "serve_in_kernel"]

# Pages that may frame the app: Jupyter (Lab, Notebook, nbclassic) on this machine and VS Code's notebooks.
NOTEBOOK_FRAMERS = (
    "'self'", "http://localhost:*", "http://127.0.0.1:*", "https://localhost:*", "https://127.0.0.1:*", "vscode-webview:",
)
_START_TIMEOUT_S = 30.0


class QueryFailed(DeepvizError, ValueError):
    """The server refused a query made from Python; the message is its answer."""


@dataclass
class Served:
    """A project served in this kernel: ``url`` ends with "/" (the app), the ASGI ``app`` and its uvicorn server."""

    url: str
    app: Any
    server: Any
    thread: threading.Thread

    @property
    def state(self) -> ServerState:
        state: ServerState = self.app.state.deepviz.current()
        return state

    def upload(self, data: bytes, name: str, feature_set: str | None) -> str:
        """An image file's bytes as a query (POST /api/queries/upload); returns its key."""
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{_quoted(name)}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
        answer = self._post("queries/upload", feature_set, body, f"multipart/form-data; boundary={boundary}")
        return str(answer["query"])

    def text(self, text: str, feature_set: str | None) -> str:
        """A text as a query (POST /api/queries/text); returns its key."""
        answer = self._post("queries/text", feature_set, json.dumps({"text": text}).encode(), "application/json")
        return str(answer["query"])

    def vector(self, vector: np.ndarray, feature_set: str | None) -> str:
        """A feature vector of the feature set's dimension as a query, held like an upload; returns its key."""
        state = self.state
        name = feature_set or state.project.default_feature_set
        dim = state.project.feature_info(name).dim
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        if v.shape != (dim,):
            raise UsageError(f"a query vector of feature set {name!r} has {dim} values, got shape {np.shape(vector)}")
        unit = l2_normalize(v[None])[0]  # raises for NaN or all-zero, saying so
        key = upload_key(name, b"deepviz-vector\0" + unit.tobytes())
        state.uploads.add(key, name, unit, text_thumbnail("vector"), 0, 0)
        return key

    def _post(self, path: str, feature_set: str | None, body: bytes, content_type: str) -> dict[str, Any]:
        query = f"?features={urllib.parse.quote(feature_set, safe='')}" if feature_set else ""
        request = urllib.request.Request(f"{self.url}api/{path}{query}", data=body, method="POST", headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=600) as res:  # noqa: S310 - our own loopback server
                answer: dict[str, Any] = json.loads(res.read())
                return answer
        except urllib.error.HTTPError as err:
            raise QueryFailed(_detail(err)) from None


def _quoted(name: str) -> str:
    return name.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")


def _detail(err: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(err.read())["detail"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {err.code}"


_SERVED: dict[Path, Served] = {}
_LOCK = threading.Lock()


def serve_in_kernel(project: Project) -> Served:
    """The project's server in this process, started on a free loopback port the first time."""
    root = project.root.resolve()
    with _LOCK:
        served = _SERVED.get(root)
        if served is None or not served.thread.is_alive():
            served = _SERVED[root] = _start(project)
    return served


def _start(project: Project) -> Served:
    import uvicorn

    app = create_app(project, frame_ancestors=NOTEBOOK_FRAMERS)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"deepviz-{project.root.name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise DeepvizError(f"the deepviz server for {project.root} did not start within {_START_TIMEOUT_S:.0f} s")
        time.sleep(0.05)
    return Served(f"http://127.0.0.1:{port}/", app, server, thread)


def image_bytes(image: Any) -> tuple[bytes, str]:
    """A PIL image or an (H, W[, C]) uint8 array as PNG bytes, and a name for it."""
    from PIL import Image

    if not isinstance(image, Image.Image):
        array = np.asarray(image)
        if array.dtype != np.uint8 or array.ndim not in (2, 3):
            raise UsageError(f"an image query is (H, W) or (H, W, C) uint8 pixels; got {array.dtype} of shape {array.shape}")
        image = Image.fromarray(array)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue(), "image.png"
