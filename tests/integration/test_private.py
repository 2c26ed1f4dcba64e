"""The server is private: other host names (DNS rebinding) and other sites' pages are refused, every
answer carries the security headers, unknown methods answer 405, the API docs need no network,
and an upload is cut off at the limit as it arrives."""
from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from deepviz.server.app import create_app
from deepviz.server.guard import cross_origin, split_host
from deepviz.server.headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from deepviz.settings import ServeSettings
from tests.conftest import ColourExtractor
from tests.integration.test_api import image_bytes, local_client

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGES = ["/", "/api/project", "/api/thumbs/32/0", "/api/thumbs/32/batch?ids=0-3", "/api/rank/0", "/api/docs", "/api/openapi.json"]


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("static")
    (folder / "index.html").write_text("<!doctype html><title>app</title>")
    return folder


@pytest.fixture(scope="module")
def app(tiny_project: Path, static_dir: Path) -> FastAPI:
    return create_app(tiny_project, ServeSettings(max_upload_bytes=200_000), embedder=ColourExtractor(), static_dir=static_dir)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with local_client(app) as c:
        yield c


def upload(c: TestClient, data: bytes, headers: dict[str, str] | None = None) -> Any:
    return c.post("/api/queries/upload", files={"file": ("q.png", data, "image/png")}, headers=headers or {})


# --- Host: DNS rebinding ----------------------------------------------------------------------


HOSTILE_HOSTS = ["evil.example", "evil.example:80", "localhost.evil.example", "127.0.0.1.nip.io", "localhost:8080", "[::2]", "x:y"]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
@pytest.mark.parametrize("path", PAGES)
def test_a_request_for_another_host_name_is_refused_everywhere(client: TestClient, host: str, path: str) -> None:
    r = client.get(path, headers={"host": host})
    assert r.status_code == 403
    assert "--allow-host" in r.json()["detail"] and "http://127.0.0.1" in r.json()["detail"]
    assert r.headers["content-security-policy"] == EXPECTED_CSP


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
def test_loopback_names_on_the_servers_port_are_answered(client: TestClient, host: str) -> None:
    # The test client's connection is on port 80, so a Host without a port is on the server's port.
    assert client.get("/api/project", headers={"host": host}).status_code == 200
    assert client.get("/api/project", headers={"host": host + ":80"}).status_code == 200


def test_the_address_the_connection_arrived_at_is_answered(app: FastAPI) -> None:
    with TestClient(app, base_url="http://192.0.2.7:8765") as c:
        assert c.get("/api/project").status_code == 200  # Host 192.0.2.7:8765 is the server's own address
        assert c.get("/api/project", headers={"host": "192.0.2.7:9999"}).status_code == 403


def test_the_default_test_client_name_is_refused(app: FastAPI) -> None:
    with TestClient(app) as c:  # Host: testserver
        assert c.get("/api/project").status_code == 403


def test_allowed_names_with_and_without_a_port(tiny_project: Path) -> None:
    settings = ServeSettings(allow_hosts=("MyBox.lan", "proxy.lan:9000"))
    with local_client(create_app(tiny_project, settings)) as c:
        assert c.get("/api/project", headers={"host": "mybox.lan:1234"}).status_code == 200
        assert c.get("/api/project", headers={"host": "proxy.lan:9000"}).status_code == 200
        assert c.get("/api/project", headers={"host": "proxy.lan:9001"}).status_code == 403
        assert c.get("/api/project", headers={"host": "mybox.lan.evil.example"}).status_code == 403


@pytest.mark.parametrize("bad", ["http://myhost", "myhost/path", "", "user@myhost"])
def test_an_allowed_host_must_be_a_name(bad: str) -> None:
    from deepviz.errors import UsageError
    from deepviz.settings import validated

    with pytest.raises(UsageError, match="allow_hosts.*not a host name"):
        validated(ServeSettings, {"allow_hosts": (bad,)})


def test_public_allows_the_machines_own_name(tiny_project: Path) -> None:
    name = socket.gethostname().lower()
    with local_client(create_app(tiny_project, ServeSettings(host="0.0.0.0", public=True))) as c:
        assert c.get("/api/project", headers={"host": name}).status_code == 200
        assert c.get("/api/project", headers={"host": "evil.example"}).status_code == 403
    if name != "localhost":
        with local_client(create_app(tiny_project)) as c:
            assert c.get("/api/project", headers={"host": name}).status_code == 403


def test_a_bound_address_is_allowed(tiny_project: Path) -> None:
    with local_client(create_app(tiny_project, ServeSettings(host="::1"))) as c:
        assert c.get("/api/project", headers={"host": "[::1]"}).status_code == 200


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("localhost:8765", ("localhost", 8765)), ("[::1]:80", ("[::1]", 80)), ("[::1]", ("[::1]", None)), ("Evil.COM", ("evil.com", None)),
        ("a:0", None), ("a:70000", None), ("a:b", None), ("[::1", None), ("[::1]x", None), ("", None), (":80", None),
    ],
)
def test_host_header_parsing(value: str, parsed: tuple[str, int | None] | None) -> None:
    assert split_host(value) == parsed


def test_asgi_request_without_a_host_header_is_refused(app: FastAPI) -> None:
    messages = _call(app, {"method": "GET", "path": "/api/project", "headers": []})
    assert messages[0]["status"] == 403


# --- Origin: cross-site requests -------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"origin": "http://localhost:8080"},  # another program's page on this machine
        {"origin": "http://localhost.evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "http://localhost", "sec-fetch-site": "cross-site"},
    ],
)
def test_a_cross_origin_upload_is_refused_and_not_kept(
    client: TestClient, app: FastAPI, tiny_project: Path, headers: dict[str, str]
) -> None:
    import deepviz

    before = len(app.state.deepviz.current().uploads._items)
    r = upload(client, image_bytes(deepviz.open_project(tiny_project), 3), headers)
    assert r.status_code == 403 and "refused" in r.json()["detail"]
    assert len(app.state.deepviz.current().uploads._items) == before


def test_a_same_origin_upload_from_the_page_is_accepted(client: TestClient, tiny_project: Path) -> None:
    import deepviz

    data = image_bytes(deepviz.open_project(tiny_project), 5)
    r = upload(client, data, {"origin": "http://localhost", "sec-fetch-site": "same-origin"})
    assert r.status_code == 200, r.text
    assert upload(client, data).status_code == 200  # no Origin at all: curl, scripts


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_cross_origin_request_is_refused_before_its_body_is_read(app: FastAPI, method: str) -> None:
    headers = [(b"host", b"localhost"), (b"origin", b"http://evil.example"), (b"content-length", b"10")]
    reads: list[int] = []
    messages = _call(app, {"method": method, "path": "/api/queries/upload", "headers": headers}, reads=reads)
    assert messages[0]["status"] == 403 and reads == []


def test_reading_is_not_blocked_by_origin(client: TestClient) -> None:
    # A GET changes nothing; another page cannot read it (same-origin policy, and CORP for no-cors loads).
    r = client.get("/api/project", headers={"origin": "http://evil.example"})
    assert r.status_code == 200 and r.headers["cross-origin-resource-policy"] == "same-origin"


def test_cross_origin_rules() -> None:
    assert cross_origin(None, None, "localhost:1") is None
    assert cross_origin("http://localhost:1", "same-origin", "localhost:1") is None
    assert cross_origin(None, "none", "localhost:1") is None
    assert cross_origin("http://LOCALHOST:1", None, "localhost:1") is None
    assert cross_origin("http://localhost:2", None, "localhost:1") is not None
    assert cross_origin("file://", None, "localhost:1") is not None


# --- security headers --------------------------------------------------------------------------


def test_the_policy_is_what_this_test_pins() -> None:
    assert CONTENT_SECURITY_POLICY == EXPECTED_CSP


@pytest.mark.parametrize("path", [*PAGES, "/api/nothing", "/api/images/999", "/api/docs/docs.js"])
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.headers["content-security-policy"] == EXPECTED_CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cross-origin-opener-policy"] == "same-origin"
    assert r.headers["cross-origin-resource-policy"] == "same-origin"
    assert set(SECURITY_HEADERS) <= set(r.headers)


# --- 405 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/project", "GET"), ("DELETE", "/api/images/3", "GET"), ("PATCH", "/api/rank/0", "GET"), ("HEAD", "/api/grid", "GET"),
        ("PUT", "/api/queries/upload", "POST"), ("GET", "/api/queries/upload", "POST"), ("POST", "/api/grid", "GET"),
        ("OPTIONS", "/api/project", "GET"), ("DELETE", "/api/docs", "GET"),
        ("PUT", "/", "GET, HEAD"), ("DELETE", "/index.html", "GET, HEAD"),
    ],
)
def test_a_method_an_existing_path_lacks_is_405_with_allow(client: TestClient, method: str, path: str, allow: str) -> None:
    r = client.request(method, path)
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    if method != "HEAD":
        assert method in r.json()["detail"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "POST"])
@pytest.mark.parametrize("path", ["/api/nothing/here", "/no-such-file.js"])
def test_any_method_on_an_unknown_path_is_404(client: TestClient, method: str, path: str) -> None:
    r = client.request(method, path)
    assert r.status_code == 404 and r.json()["detail"]


# --- API docs, offline ---------------------------------------------------------------------------


def test_the_api_docs_need_no_network(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?://", page.text), "the docs page references another server"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/api/docs/docs.js" in assets and "/api/docs/docs.css" in assets and "/api/openapi.json" in assets
    for asset in assets:
        if asset.startswith("data:"):
            continue
        r = client.get(asset)
        assert r.status_code == 200, asset
        assert not re.search(r"https?://", r.text) or asset.endswith(".json"), asset
    assert "<script>" not in page.text and "style=" not in page.text  # nothing inline for the CSP to block
    assert client.get("/api/docs/other.js").status_code == 404


# --- upload size ---------------------------------------------------------------------------------


def test_a_declared_oversized_body_is_refused_before_it_is_read(app: FastAPI) -> None:
    headers = [(b"host", b"localhost"), (b"content-length", b"999999999"), (b"content-type", b"multipart/form-data; boundary=x")]
    reads: list[int] = []
    messages = _call(app, {"method": "POST", "path": "/api/queries/upload", "headers": headers}, reads=reads)
    assert messages[0]["status"] == 413 and reads == []


def test_a_chunked_body_is_cut_off_at_the_limit(app: FastAPI) -> None:
    """Chunks without a Content-Length: the chunk that passes the limit is the last one read."""
    headers = [(b"host", b"localhost"), (b"content-type", b"multipart/form-data; boundary=x")]
    head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
    chunks = [head] + [bytes(50_000)] * 1000  # 50 MB offered against a 200 kB limit
    reads: list[int] = []
    messages = _call(app, {"method": "POST", "path": "/api/queries/upload", "headers": headers}, chunks=chunks, reads=reads)
    assert messages[0]["status"] == 413
    assert sum(reads) <= 200_000 + 16 * 1024 + 50_000
    assert b"200,000 bytes limit" in messages[1]["body"]
    assert (b"connection", b"close") in messages[0]["headers"]


def _call(
    app: FastAPI, request: dict[str, Any], chunks: list[bytes] | None = None, reads: list[int] | None = None
) -> list[dict[str, Any]]:
    """Run one HTTP request through the ASGI app; ``reads`` records the size of each body chunk the
    app asked for (so a test can tell whether, and how much of, the body was read)."""
    pending = list(chunks if chunks is not None else [b"0123456789"])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not pending:
            return {"type": "http.disconnect"}
        body = pending.pop(0)
        if reads is not None:
            reads.append(len(body))
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80), **request,
    }
    asyncio.run(app(scope, receive, send))
    return sent


def test_a_dual_stack_servers_ipv4_clients_may_name_its_ipv4_address(app: FastAPI) -> None:
    # Bound to ::, an IPv4 connection arrives at ::ffff:192.0.2.7; the browser says Host: 192.0.2.7.
    request = {"method": "GET", "path": "/api/project", "headers": [(b"host", b"192.0.2.7:8765")], "server": ("::ffff:192.0.2.7", 8765)}
    assert _call(app, request)[0]["status"] == 200
    request["headers"] = [(b"host", b"192.0.2.8:8765")]
    assert _call(app, request)[0]["status"] == 403


def test_a_websocket_for_another_host_name_is_closed(app: FastAPI) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": [(b"host", b"evil.example")], "server": ("127.0.0.1", 80), "query_string": b""}
    asyncio.run(app(scope, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1008}]
