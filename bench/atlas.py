"""Embedding Atlas on the same images and vectors as a deepviz build: seconds to a served view, peak RSS.

Used by ``bench/bench_build.py --n N --atlas [CMD]``. Embedding Atlas is not a dependency of deepviz:
install it apart (``python -m venv /tmp/atlas && /tmp/atlas/bin/pip install embedding-atlas``) and pass
its ``embedding-atlas`` executable. It is started the way its README starts a parquet file with
precomputed vectors (``embedding-atlas data.parquet --vector vector --image image``); it computes its
UMAP projection, then serves; the time runs from its start to the first ``200`` of its page.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# Atlas is given this long to serve its page before the run is reported as failed.
TIMEOUT_S = 1800
POLL_S = 0.25
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class AtlasRun:
    seconds: float | None  # None: it exited or timed out without serving
    peak_rss_gb: float
    log_tail: str


def write_parquet(path: Path, images: Path, rel_paths: list[str], vectors: np.ndarray) -> None:
    """One row per image: its relative path, label (its folder), PNG bytes and float32 vector."""
    table = pa.table({
        "path": rel_paths,
        "label": [p.split("/")[0] for p in rel_paths],
        "image": [(images / p).read_bytes() for p in rel_paths],
        "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.astype(np.float32).ravel()), vectors.shape[1]),
    })
    pq.write_table(table, path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree_rss(pid: int) -> int:
    """Resident bytes of process ``pid`` and all its descendants (from /proc: Linux)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        child = int(stat.parent.name)
        parent[child] = int(fields[1])
        rss[child] = int(fields[21]) * PAGE
    tree, grown = {pid}, True
    while grown:
        more = {c for c, p in parent.items() if p in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(rss.get(p, 0) for p in tree)


def run_atlas(cmd: str, parquet: Path, log: Path) -> AtlasRun:
    """Start Embedding Atlas on ``parquet``; seconds until its page is served and its peak RSS (all its processes)."""
    port = _free_port()
    args = [cmd, str(parquet), "--vector", "vector", "--image", "image", "--host", "127.0.0.1",
            "--port", str(port), "--no-auto-port", "--umap-random-state", "0"]
    start = time.perf_counter()
    with log.open("wb") as out:
        # Atlas keeps each projection it computes in its cache folder and reuses it for the same data (a
        # second run on the same seeded set served in 29 s instead of 128 s): every run gets an empty one.
        cache = tempfile.mkdtemp(prefix="atlas-cache-")
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        child = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        peak, served = 0, None
        try:
            while time.perf_counter() - start < TIMEOUT_S and child.poll() is None:
                peak = max(peak, _tree_rss(child.pid))
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                        if reply.status == 200:
                            served = time.perf_counter() - start
                            break
                except (urllib.error.URLError, OSError):
                    pass
                time.sleep(POLL_S)
        finally:
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
            shutil.rmtree(cache, ignore_errors=True)
    return AtlasRun(served, peak / 1e9, log.read_text(errors="replace")[-600:])
