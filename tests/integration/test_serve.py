"""`deepviz serve` for real: a subprocess that binds, prints its URL and answers the API."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


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
                # No retry: the printed URL answers at once (the socket listens before the print;
                # a client used to be refused while uvicorn was still starting).
                with urllib.request.urlopen(url.rstrip("/") + "/api/project", timeout=30) as resp:
                    info = json.loads(resp.read())
                assert info["n"] == 24 and info["feature_sets"] == ["colour"]
                with urllib.request.urlopen(url, timeout=5) as resp:
                    assert b"<html" in resp.read().lower()
            finally:
                proc.terminate()
                proc.wait(timeout=20)


def test_a_host_beyond_this_machine_needs_public(tiny_project: Path) -> None:
    from click.testing import CliRunner

    from deepviz.cli import cli

    for host in ("0.0.0.0", "", "::"):
        result = CliRunner().invoke(cli, ["serve", str(tiny_project), "--host", host, "--no-open"])
        assert result.exit_code == 1, result.output
        assert "--public" in result.output and "anyone on those networks could browse these images" in result.output
        assert "Traceback" not in result.output


def test_check_public_decides_by_the_resolved_address() -> None:
    from deepviz.errors import UsageError
    from deepviz.server.run import check_public

    for loopback in ("127.0.0.1", "127.0.1.1", "::1"):
        check_public("myname", loopback, public=False)
    with pytest.raises(UsageError, match="192.168.1.10, which other machines can reach.*--public"):
        check_public("myname", "192.168.1.10", public=False)
    check_public("myname", "192.168.1.10", public=True)


def test_public_prints_who_can_reach_it_and_still_refuses_other_names(tiny_project: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "deepviz", "serve", str(tiny_project), "--host", "", "--public", "--port", "0", "--no-open"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            assert "--public: listening on all interfaces" in first and "Anyone on these networks can browse these images" in first
            url = _read_url(proc)
            assert "Listening on :" not in first
            base = url.rstrip("/")
            for _ in range(100):
                try:
                    with urllib.request.urlopen(base + "/api/project", timeout=5) as resp:
                        assert resp.status == 200
                    break
                except OSError:
                    time.sleep(0.1)
            port = base.rsplit(":", 1)[1]
            own = urllib.request.Request(base + "/api/project", headers={"Host": f"{socket.gethostname()}:{port}"})
            with urllib.request.urlopen(own, timeout=5) as resp:
                assert resp.status == 200
            evil = urllib.request.Request(base + "/api/project", headers={"Host": f"evil.example:{port}"})
            try:
                urllib.request.urlopen(evil, timeout=5)
                raise AssertionError("a request for evil.example was answered")
            except urllib.error.HTTPError as err:
                assert err.code == 403
                err.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def test_serve_opens_a_project_whose_first_build_is_running(tmp_path: Path) -> None:
    """`deepviz serve` started while the first build runs (no manifest yet) says so and serves its progress."""
    from tests.conftest import make_folder
    from tests.integration.test_serve_building import HeldExtractor, _start_build

    images = make_folder(tmp_path / "images", per_class=2, with_broken=False)
    out = tmp_path / "p.deepviz"
    model = HeldExtractor(free=0)
    thread, _ = _start_build(images, out, model)
    assert model.held.wait(60)
    try:
        with subprocess.Popen(
            [sys.executable, "-m", "deepviz", "serve", str(out), "--port", "0", "--no-open"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ) as proc:
            try:
                url = _read_url(proc)
                with urllib.request.urlopen(url.rstrip("/") + "/api/project", timeout=30) as resp:
                    info = json.loads(resp.read())
                assert info["n"] == 0 and info["building"]["total"] == 6
                assert proc.poll() is None  # still serving
            finally:
                proc.terminate()
                out_text = proc.communicate(timeout=20)[0]
        assert "first build is still running" in out_text
    finally:
        model.release.set()
        thread.join(120)
