"""Benchmark query latency: a full exact ranking server-side and through HTTP, beside a plain numpy argsort.

    python bench/bench_query.py [--cases demo,100k,1m] [--repeats 7] [--keep DIR]

Each case is a synthetic project written straight in the storage format (random unit-norm
float16 features, a row-major grid, empty thumbnails), so no images are decoded. Figures
are medians over distinct query ids; every ratio is against np.argsort of N float32
measured in this same process. Prints figures only; asserts nothing.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from synthetic import FEATURE_SET, write_synthetic_project  # bench/ is on sys.path when run as a script

from deepviz.core.similarity import rank

CASES = {"demo": (785, 1280), "100k": (100_000, 1280), "1m": (1_000_000, 512), "1m-1280": (1_000_000, 1280)}


def median_ms(fn: Callable[[int], object], ids: list[int]) -> float:
    """Median wall time of ``fn(i)`` over ``ids``, in milliseconds."""
    times = []
    for i in ids:
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def rss_now_gb() -> tuple[float, float]:
    """(resident, of which anonymous) GB now, from /proc (Linux): the mapped features are the file-backed rest."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024**2, int(fields.get("RssAnon", "0 kB").split()[0]) / 1024**2


class RealServer:
    """The app on a real uvicorn on 127.0.0.1, in a thread, for the duration of a ``with``."""

    def __init__(self, app: object) -> None:
        import uvicorn

        from deepviz.server.run import bind

        self.sock = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))  # type: ignore[arg-type]
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join()


def bench_case(label: str, n: int, d: int, repeats: int, tmp: Path, keep: bool) -> dict[str, float | str]:
    import httpx2 as httpx
    from fastapi.testclient import TestClient

    from deepviz.server.app import create_app

    t = time.perf_counter()
    root = tmp / f"{label}.deepviz"
    if not root.exists():  # --keep reuses a project written by an earlier run
        write_synthetic_project(root, n, d)
    written = time.perf_counter() - t
    rng = np.random.default_rng(1)
    ids = [int(i) for i in rng.choice(n, size=min(n, 6 * repeats), replace=False)]
    batches = [ids[k * repeats : (k + 1) * repeats] for k in range(6)]

    sims = rng.standard_normal(n, dtype=np.float32)
    argsort = median_ms(lambda _: np.argsort(sims), list(range(repeats)))

    app = create_app(root)
    state = app.state.deepviz.current()
    t = time.perf_counter()
    state.rankings.warm_up(FEATURE_SET)  # maps (or copies) the set and compiles the kernel
    matrix = state.rankings.matrix(FEATURE_SET)
    load = (time.perf_counter() - t) * 1e3
    core = median_ms(lambda i: rank(matrix, np.asarray(matrix[i], np.float32)), batches[0])
    mapped = state.project.features(FEATURE_SET)
    blocks = max(1, (1 << 19) // (4 * d))  # the numpy path without the fast extra (block by block)
    f16 = median_ms(lambda i: rank(mapped, np.asarray(mapped[i], np.float32), block_rows=blocks), batches[1][: max(2, repeats // 3)])
    server = median_ms(lambda i: state.rankings.for_image(FEATURE_SET, i), batches[2])
    cached = median_ms(lambda i: state.rankings.for_image(FEATURE_SET, i), batches[2])

    with TestClient(app, base_url="http://localhost") as client:  # the server answers only its own names
        in_process = median_ms(lambda i: client.get(f"/api/rank/{i}").content, batches[3])
    with RealServer(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        real = median_ms(lambda i: http.get(f"/api/rank/{i}").content, batches[4])
        real_cached = median_ms(lambda i: http.get(f"/api/rank/{i}").content, batches[4])
        window = median_ms(lambda i: http.get(f"/api/rank/{i}", params={"start": 0, "stop": 64}).content, batches[5])
        rss, anon = rss_now_gb()
    served = serve_process(root, ids[: 6 * repeats])
    if not keep:
        shutil.rmtree(root)
    return {
        "case": f"{label} {n:,}x{d}", "write_s": written, "load_ms": load, "argsort": argsort, "core": core,
        "f16": f16, "server": server, "cached": cached, "testclient": in_process, "uvicorn": real,
        "uvicorn_cached": real_cached, "window": window, "rss_gb": rss, "anon_gb": anon, "peak_gb": peak_rss_gb(), **served,
    }


def serve_process(root: Path, ids: list[int]) -> dict[str, float]:
    """`deepviz serve` in its own process, asked what the page asks per query (the head of the
    ranking, then the curve at 1,000 px on the log axis), one query per id, then its memory from /proc:
    the server's RSS as a user would see it, nothing of the bench in it."""
    import re
    import subprocess
    import sys

    import httpx2 as httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "deepviz", "serve", str(root), "--port", "0", "--no-open"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        url = None
        assert proc.stdout is not None
        for line in proc.stdout:
            found = re.search(r"at (http://\S+)", line)
            if found:
                url = found[1]
                break
        assert url, "deepviz serve printed no URL"
        times = []
        with httpx.Client(base_url=url.rstrip("/"), timeout=120) as http:
            http.get("/api/ranking/at", params={"q": ids[0], "ranks": "0"})  # waits for the warm-up (map + compile)
            for i in ids:
                t = time.perf_counter()
                http.get("/api/ranking/at", params={"q": i, "ranks": "0-255,999999"}).raise_for_status()
                http.get("/api/ranking/curve", params={"q": i, "width": 1000, "log": True}).raise_for_status()
                times.append((time.perf_counter() - t) * 1e3)
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines() if ":" in line)
        gb = {k: int(fields[k].split()[0]) / 1024**2 for k in ("VmRSS", "RssAnon", "RssFile", "VmHWM")}
        return {"page_query": statistics.median(times), **gb}
    finally:
        proc.terminate()
        proc.wait()


def print_table(rows: list[dict[str, float | str]]) -> None:
    print("\nAll times are medians in ms (one query = a full exact ranking of all N images).")
    print("core     = deepviz.core.similarity.rank on the matrix the server holds (the float16 map with the fast")
    print("           extra; else a float32 copy when it fits the RAM budget); load = the server getting it ready")
    print("f16 map  = rank from the float16 memory map with numpy, block by block (the path without the fast extra)")
    print("server   = Rankings.for_image, uncached; cached = the same ids again")
    print("HTTP     = GET /api/rank/{id} (8N bytes) via TestClient / a real uvicorn + httpx; top64 = ?stop=64")
    print("RSS      = the bench process serving, after the queries (anon = not file-backed); peak = ru_maxrss\n")
    head = (
        f"{'case':<22}{'argsort':>8}{'core':>8}{'xargsort':>9}{'f16 map':>9}{'server':>8}{'cached':>8}"
        f"{'TestCl':>8}{'uvicorn':>9}{'uv cached':>10}{'top64':>7}{'load':>7}{'RSS GB':>8}{'anon GB':>8}{'peak GB':>8}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['case']:<22}{r['argsort']:>8.1f}{r['core']:>8.1f}{float(r['core']) / float(r['argsort']):>9.1f}"
            f"{r['f16']:>9.1f}{r['server']:>8.1f}{r['cached']:>8.2f}{r['testclient']:>8.1f}{r['uvicorn']:>9.1f}"
            f"{r['uvicorn_cached']:>10.1f}{r['window']:>7.1f}{r['load_ms']:>7.0f}{r['rss_gb']:>8.2f}{r['anon_gb']:>8.2f}{r['peak_gb']:>8.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="demo,100k,1m", help=f"comma-separated, from {list(CASES)}")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write the synthetic projects here instead of a temp dir")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="deepviz-bench-query-") as tmp_dir:
        tmp = args.keep or Path(tmp_dir)
        for label in args.cases.split(","):
            n, d = CASES[label]
            print(f"== {label}: {n:,} x {d} ...", flush=True)
            rows.append(bench_case(label, n, d, args.repeats, tmp, args.keep is not None))
    print_table(rows)
    print("\n`deepviz serve` in its own process, after one query per id as the page asks it (head + curve):")
    print(f"{'case':<22}{'head+curve ms':>14}{'RSS GB':>8}{'anon':>7}{'file':>7}{'peak':>7}")
    for r in rows:
        print(f"{r['case']:<22}{r['page_query']:>14.1f}{r['VmRSS']:>8.2f}{r['RssAnon']:>7.2f}{r['RssFile']:>7.2f}{r['VmHWM']:>7.2f}")


if __name__ == "__main__":
    main()
