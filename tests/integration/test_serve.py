"""`deepviz serve` for real: a subprocess that binds, prints its URL and answers the API."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _read_url(proc: subprocess.Popen[str], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(r"(http://127\.0\.0\.1:\d+/?)", line)
        if match:
            return match.group(1)
    raise AssertionError(f"serve printed no URL: {''.join(seen)}")


def test_serve_moves_off_a_taken_port_and_answers(tiny_project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with subprocess.Popen(
            [sys.executable, "-m", "deepviz", "serve", str(tiny_project), "--port", str(port), "--no-open"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ) as proc:
            try:
                url = _read_url(proc)
                assert f":{port}/" not in url + "/"
                for _ in range(100):
                    try:
                        with urllib.request.urlopen(url.rstrip("/") + "/api/project", timeout=5) as resp:
                            info = json.loads(resp.read())
                        break
                    except OSError:
                        time.sleep(0.1)
                assert info["n"] == 24 and info["feature_sets"] == ["colour"]
                with urllib.request.urlopen(url, timeout=5) as resp:
                    assert b"<html" in resp.read().lower()
            finally:
                proc.terminate()
                proc.wait(timeout=20)
