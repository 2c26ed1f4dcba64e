"""A bounded load test on loopback: a real `deepviz serve` subprocess and many concurrent clients.

The clients send what the page sends (project, grid, labels, colours, thumbnail batches, single
thumbnails, image info, rankings with windows) for a fixed number of requests. Every answer must be
200 and byte-identical to the one the same URL got from a single client before the load, and the
server's memory must stay near what it held after that warm-up. Throughput and latency are reported,
not asserted: they depend on the machine.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import numpy as np
import pytest

from bench.synthetic import THUMB_SIZES, write_synthetic_project

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads the server's memory from /proc (Linux)"),
]

N_IMAGES = 20_000
DIM = 128
REQUESTS = 5_000
CLIENTS = 32
RSS_GROWTH_LIMIT = 300 << 20  # bytes over the server's RSS after warm-up; rankings alone would be 160 KB each
SEED = 7

# Share of each kind of request, roughly as the page makes them while a user explores.
MIX = {"project": 2, "grid": 2, "labels": 2, "colors": 2, "image": 14, "thumb": 10, "batch": 28, "rank": 40}


@dataclass
class Server:
    url: str
    pid: int

    def memory(self) -> dict[str, int]:
        """VmRSS (now) and VmHWM (peak since start) of the server process, in bytes."""
        found = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) * 1024
        return found

    def open_files(self) -> int:
        """File descriptors the server process holds: sockets included, so a leaked connection shows."""
        return len(list(Path(f"/proc/{self.pid}/fd").iterdir()))

    def settled_open_files(self, at_most: int, timeout: float = 10.0) -> int:
        """The open file count once it is ``at_most`` or less (closed connections take a moment to go)."""
        deadline = time.monotonic() + timeout
        while (count := self.open_files()) > at_most and time.monotonic() < deadline:
            time.sleep(0.1)
        return count


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("load")
    project = write_synthetic_project(base / "load.deepviz", N_IMAGES, DIM, seed=SEED, thumbs=True)
    env = {**os.environ, "DEEPVIZ_CACHE": str(base / "cache")}
    log_path = base / "serve.log"
    with open(log_path, "w") as log, subprocess.Popen(
        [sys.executable, "-m", "deepviz", "serve", str(project), "--port", "0", "--no-open"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    ) as proc:
        try:
            url = _wait_until_serving(proc, log_path)
            yield Server(url, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _wait_until_serving(proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 60.0) -> str:
    """The URL `deepviz serve` printed, once it answers (its output goes to a file: a pipe nobody
    reads would stall the server)."""
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline and proc.poll() is None:
        if url is None:
            match = re.search(r"http://127\.0\.0\.1:\d+", log_path.read_text())
            url = match.group(0) if match else None
        if url is not None:
            try:
                if httpx2.get(url + "/api/project", timeout=5).status_code == 200:
                    return url
            except httpx2.TransportError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"deepviz serve did not answer (exit code {proc.poll()}):\n{log_path.read_text()}")


def request_plan(n: int, count: int, seed: int) -> list[str]:
    """``count`` request paths in the proportions of ``MIX``, drawn from a few hundred distinct URLs (the
    queries and screens a user comes back to), so each has a single-client answer to compare with."""
    rng = np.random.default_rng(seed)
    queried = rng.choice(n, 40, replace=False)
    windows = ["", "?start=0&stop=100", "?start=0&stop=1000", "?start=100&stop=300", f"?start={n - 500}&stop={n}", "?start=5000&stop=5050"]
    screens = []
    for first in rng.choice(n - 400, 30, replace=False):
        rows = [f"{first + k * 150}-{first + k * 150 + 11}" for k in range(8)]  # 8 rows of 12 cells on the map
        screens.append(",".join(rows))
    scattered = [",".join(map(str, rng.choice(n, 60))) for _ in range(10)]
    shown = rng.choice(n, 200, replace=False)
    make: dict[str, Callable[[], str]] = {
        "project": lambda: "/api/project",
        "grid": lambda: "/api/grid",
        "labels": lambda: "/api/labels",
        "colors": lambda: "/api/colors",
        "image": lambda: f"/api/images/{rng.choice(shown)}",
        "thumb": lambda: f"/api/thumbs/{rng.choice(THUMB_SIZES)}/{rng.choice(shown)}",
        "batch": lambda: f"/api/thumbs/{rng.choice(THUMB_SIZES[:2])}/batch?ids={rng.choice(screens + scattered)}",
        "rank": lambda: f"/api/rank/{rng.choice(queried)}{rng.choice(windows)}",
    }
    kinds = list(MIX)
    weights = np.array([MIX[k] for k in kinds], float)
    return [make[kinds[i]]() for i in rng.choice(len(kinds), count, p=weights / weights.sum())]


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int | str] = field(default_factory=Counter)
    mismatched: list[str] = field(default_factory=list)


def _client(url: str) -> httpx2.Client:
    return httpx2.Client(base_url=url, timeout=60)


def _run(url: str, paths: list[str], expected: dict[str, bytes]) -> Outcome:
    """One client: its paths one after another on one keep-alive connection."""
    out = Outcome()
    with _client(url) as client:
        for path in paths:
            t0 = time.perf_counter()
            try:
                r = client.get(path)
            except httpx2.HTTPError as err:
                out.statuses[type(err).__name__] += 1
                continue
            out.latencies.append(time.perf_counter() - t0)
            out.statuses[r.status_code] += 1
            if r.status_code == 200 and r.content != expected[path]:
                out.mismatched.append(path)
    return out


def test_concurrent_clients_get_the_single_client_answers_in_bounded_memory(
    server: Server, record_testsuite_property: Callable[[str, object], None]
) -> None:
    plan = request_plan(N_IMAGES, REQUESTS, SEED)
    expected = {}
    with _client(server.url) as client:
        for path in sorted(set(plan)):
            r = client.get(path)
            assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:300]}"
            expected[path] = r.content
    before = server.memory()
    files_before = server.open_files()

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = list(pool.map(lambda k: _run(server.url, plan[k::CLIENTS], expected), range(CLIENTS)))
    elapsed = time.perf_counter() - started
    after = server.memory()
    files_after = server.settled_open_files(at_most=files_before)

    statuses: Counter[int | str] = sum((o.statuses for o in outcomes), Counter())
    mismatched = [p for o in outcomes for p in o.mismatched]
    latencies = np.array([t for o in outcomes for t in o.latencies])
    kinds = Counter(p.split("/")[2] for p in plan)
    figures = {
        "requests": sum(statuses.values()),
        "clients": CLIENTS,
        "distinct_urls": len(expected),
        "kinds": dict(kinds),
        "statuses": {str(k): v for k, v in statuses.items()},
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)) * 1e3, 2) if len(latencies) else None,
        "p99_ms": round(float(np.percentile(latencies, 99)) * 1e3, 2) if len(latencies) else None,
        "rss_after_warm_up_mb": round(before["VmRSS"] / 2**20, 1),
        "rss_after_load_mb": round(after["VmRSS"] / 2**20, 1),
        "peak_rss_mb": round(after["VmHWM"] / 2**20, 1),
        "open_files_before_after": (files_before, files_after),
    }
    for name, value in figures.items():
        record_testsuite_property(f"load_{name}", value)
    print(f"load test: {figures}")
    assert figures["requests"] == REQUESTS and statuses[200] == REQUESTS, figures
    assert not mismatched, f"{len(mismatched)} answers differ from the single-client ones, e.g. {mismatched[:5]}; {figures}"
    assert after["VmHWM"] - before["VmRSS"] < RSS_GROWTH_LIMIT, figures
    assert files_after <= files_before, f"the server holds more files or sockets than before the load: {figures}"
