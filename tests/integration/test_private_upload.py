"""Chunked uploads against a real uvicorn on loopback: one over the limit is answered 413 while it is
still being sent, and the server's temporary files never hold more than the limit."""
from __future__ import annotations

import os
import select
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import deepviz
from deepviz.server.app import create_app
from deepviz.settings import ServeSettings
from tests.conftest import ColourExtractor, live_server

LIMIT = 3_000_000  # over the 1 MB that the form parser keeps in memory, so it does spool to disk
OFFERED = 200_000_000
PIECE = 1 << 16
SLACK = 16 * 1024  # deepviz.server.app._MULTIPART_SLACK

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="measures temp files through /proc (Linux)")


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the server's form parser puts its temporary files (tempfile's default folder)."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def server(tiny_project: Path, spool_dir: Path) -> Iterator[int]:
    app = create_app(tiny_project, ServeSettings(max_upload_bytes=LIMIT), embedder=ColourExtractor())
    with live_server(app) as url:
        yield int(url.rstrip("/").rsplit(":", 1)[1])


class SpoolWatch:
    """The most bytes held at once in open files under ``folder`` by this process (the server runs in
    a thread here), sampled every few milliseconds; the form parser's files have no name to list."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SpoolWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            held = 0
            for fd in os.listdir("/proc/self/fd"):
                try:
                    if os.readlink(f"/proc/self/fd/{fd}").startswith(self.folder):
                        held += os.stat(f"/proc/self/fd/{fd}").st_size
                except OSError:  # closed meanwhile
                    continue
            self.peak = max(self.peak, held)


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def send_chunked_upload(port: int, payload: Iterator[bytes], pause: float = 0.0) -> tuple[int, bytes]:
    """POST a multipart upload with Transfer-Encoding: chunked (no Content-Length), reading the answer
    as soon as one arrives; (bytes of file content sent, the answer's first bytes). ``pause`` after
    each chunk keeps the server's temporary file alive long enough for SpoolWatch to see it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(
            f"POST /api/queries/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: multipart/form-data; boundary=XX\r\n\r\n".encode()
        )
        conn.sendall(chunk(b'--XX\r\nContent-Disposition: form-data; name="file"; filename="q.png"\r\nContent-Type: image/png\r\n\r\n'))
        sent = 0
        try:
            for data in payload:
                conn.sendall(chunk(data))
                sent += len(data)
                time.sleep(pause)
                if select.select([conn], [], [], 0)[0]:  # answered early: stop sending
                    break
            else:
                conn.sendall(chunk(b"\r\n--XX--\r\n") + b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection after its answer, which is still to be read
        answer = b""
        while b"\r\n\r\n" not in answer:
            more = conn.recv(65536)
            if not more:
                break
            answer += more
        return sent, answer


def test_a_chunked_upload_over_the_limit_is_refused_while_it_is_sent(server: int, spool_dir: Path) -> None:
    piece = os.urandom(PIECE)
    with SpoolWatch(spool_dir) as watch:
        sent, answer = send_chunked_upload(server, (piece for _ in range(OFFERED // PIECE)), pause=0.003)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"connection: close" in answer.lower()
    assert sent < OFFERED // 4, f"the client could send {sent:,} bytes before it was stopped"
    # The body limit is the file limit plus room for the multipart boundaries and part headers.
    assert 0 < watch.peak <= LIMIT + SLACK, f"the server held {watch.peak:,} bytes in temporary files (limit {LIMIT:,})"
    time.sleep(0.1)
    assert not list(spool_dir.iterdir())


def test_a_chunked_upload_under_the_limit_is_answered(server: int, tiny_project: Path) -> None:
    data = deepviz.open_project(tiny_project).source_path(4).read_bytes()
    sent, answer = send_chunked_upload(server, iter([data[:100], data[100:]]))
    assert sent == len(data)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
