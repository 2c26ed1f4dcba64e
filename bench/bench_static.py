"""Benchmark `deepviz export`'s static site at 1k, 100k and 1M images: its size, and the page's load time.

    python bench/bench_static.py [--cases 1k,100k] [--dim 512] [--limit-mb 64] [--keep DIR]

Each case is a synthetic project (bench/synthetic.py: random --dim float16 features, a dozen
distinct tiny JPEGs at 32, 64 and 128 px repeated over the grid) exported with the default
ranking choice (browser ranking while the int8 features fit --limit-mb, else the rankings of three
precomputed queries), served by ``python -m http.server`` on 127.0.0.1 and opened in Debian's
Chromium (Playwright, 1600x1000, a fresh context: empty caches). Measured:

    export       s to write the site (a synthetic project's thumbnails are tiny: ~0.3-2 kB)
    site         MB on disk and files: all, thumbnails (one file each + the map's tiles),
                 rankings (int8 features, or precomputed ranking chunks)
    first draw   ms from navigation start to the first map frame (the page's mark
                 ``deepviz:first-draw:map``, web/src/timing.ts)
    load MB      bytes the page fetched until that first draw
    click->curve ms from a click on the middle image's cell (precomputed with its 8 neighbours) to its first curve (mark
                 ``deepviz:first-draw:curve:...``): in browser mode it includes downloading the
                 int8 features once and ranking every image in the page
    query MB     bytes that click fetched

Cases not measured (``--cases`` without 1m: its 3M thumbnail files take long to write) are
computed from the format: each part's bytes per image in the largest measured case, times N,
plus 12 bytes per image and query for 9 precomputed rankings. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
from synthetic import write_synthetic_project  # bench/ is on sys.path when run as a script

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepviz.export.site import CURVE_WIDTH, export_site, features_mb  # noqa: E402
from deepviz.settings import ExportSettings  # noqa: E402
from deepviz.storage.project import open_project  # noqa: E402

CASES = {"1k": 1_000, "100k": 100_000, "1m": 1_000_000}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
FIRST_MAP = "deepviz:first-draw:map"
FIRST_CURVE = "deepviz:first-draw:curve:"
BYTES_JS = "() => performance.getEntriesByType('resource').reduce((s, e) => s + e.encodedBodySize, 0)"


def folder_bytes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def export_case(n: int, d: int, limit_mb: int, tmp: Path) -> dict[str, Any]:
    project_dir = tmp / f"p{n}.deepviz"
    if not project_dir.exists():
        write_synthetic_project(project_dir, n, d, thumbs=True)
    # The middle image and the 3 x 3 cells around it: a click computed from the grid may land a
    # cell off when cells are under a pixel (1M images), and must still hit a precomputed query.
    grid = open_project(project_dir).grid
    r, c = grid[n // 2]
    block = np.flatnonzero((np.abs(grid[:, 0] - r) <= 1) & (np.abs(grid[:, 1] - c) <= 1))
    queries = tuple(str(i) for i in block)
    settings = ExportSettings(queries=queries, browser_limit_mb=limit_mb)
    site = tmp / f"site{n}"
    t0 = time.perf_counter()
    summary = export_site(open_project(project_dir), settings, site)
    seconds = time.perf_counter() - t0
    thumbs, thumb_files = folder_bytes(site / "data" / "thumbs")
    ranks = folder_bytes(site / "data" / "rankings")[0] if summary.config.mode == "precomputed" else sum(
        (site / "data" / name).stat().st_size for name in ("features.i8", "scale.f32")
    )
    return {
        "n": n, "site": site, "mode": summary.config.mode, "export_s": seconds, "bytes": summary.bytes,
        "files": summary.files, "thumbs": thumbs, "thumb_files": thumb_files, "rankings": ranks,
        "queries": len(summary.config.queries), "bound": summary.config.similarity_error_bound,
    }


def serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "deepviz-site.json")  # noqa: S310 (local server)
            return proc, url
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("http.server did not start")


def cell_centre(page: Any, site: Path, image_id: int) -> tuple[float, float]:
    """Page coordinates of an image's cell in the map's first "fit" view, from the site's grid file."""
    canvas = page.get_by_test_id("map-canvas")
    row, col = np.memmap(site / "data" / "grid.i32", dtype="<i4", mode="r").reshape(-1, 2)[image_id]
    rows, cols = int(canvas.get_attribute("data-rows")), int(canvas.get_attribute("data-cols"))
    box = canvas.bounding_box()
    k = min((box["width"] - 8) / cols, (box["height"] - 8) / rows)
    x0, y0 = (box["width"] - cols * k) / 2, (box["height"] - rows * k) / 2
    return box["x"] + x0 + (col + 0.5) * k, box["y"] + y0 + (row + 0.5) * k


def load_case(browser: Any, url: str, site: Path, query: int) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_function(f"() => performance.getEntriesByName('{FIRST_MAP}', 'mark').length > 0", timeout=300_000)
        first = page.evaluate(f"() => performance.getEntriesByName('{FIRST_MAP}', 'mark')[0].startTime")
        page.wait_for_selector("body[data-ready=true]", timeout=300_000)
        loaded = page.evaluate(BYTES_JS)
        x, y = cell_centre(page, site, query)
        t0 = page.evaluate("() => performance.now()")
        page.mouse.click(x, y)
        page.wait_for_function(
            f"() => performance.getEntriesByType('mark').some((e) => e.name.startsWith('{FIRST_CURVE}'))", timeout=300_000
        )
        curve = page.evaluate(f"() => performance.getEntriesByType('mark').find((e) => e.name.startsWith('{FIRST_CURVE}')).startTime")
        return {"first_draw_ms": first, "load_mb": loaded / 1e6, "click_curve_ms": curve - t0,
                "query_mb": (page.evaluate(BYTES_JS) - loaded) / 1e6}
    finally:
        context.close()


def estimate(n: int, d: int, limit_mb: int, base: dict[str, Any], queries: int = 9) -> dict[str, Any]:
    """A case's size from the format, scaled from a measured case's bytes per image."""
    per_image_other = (base["bytes"] - base["thumbs"] - base["rankings"]) / base["n"]
    thumbs = base["thumbs"] / base["n"] * n
    browser = features_mb(n, d) <= limit_mb
    curves = 2 * 2 * 4 * 2 * CURVE_WIDTH  # an envelope has at most ~2 points per px column; x and sim float32
    rankings = n * (d + 4) if browser else queries * (12 * n + curves)
    return {
        "n": n, "mode": ("browser" if browser else "precomputed") + " (computed)", "bytes": thumbs + rankings + per_image_other * n,
        "files": base["thumb_files"] / base["n"] * n, "thumbs": thumbs, "rankings": rankings, "queries": 0 if browser else queries,
    }


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="1k,100k", help=f"comma-separated, from {list(CASES)}; the others are computed")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--limit-mb", type=int, default=ExportSettings().browser_limit_mb)
    parser.add_argument("--keep", type=Path, help="write (and reuse) the synthetic projects here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="deepviz-bench-static-") as tmp_dir, sync_playwright() as p:
        tmp = args.keep or Path(tmp_dir)
        tmp.mkdir(parents=True, exist_ok=True)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for label in args.cases.split(","):
            print(f"== {label}: exporting {CASES[label]:,} images ...", flush=True)
            row = export_case(CASES[label], args.dim, args.limit_mb, tmp)
            proc, url = serve(row["site"])
            try:
                # A precomputed query (the middle image), also in browser mode; the first visit is a
                # warm-up: the browser's own start-up is not measured.
                load_case(browser, url, row["site"], row["n"] // 2)
                row.update(load_case(browser, url, row["site"], row["n"] // 2))
            finally:
                proc.terminate()
                proc.wait(10)
            rows.append(row)
        browser.close()
    measured = {r["n"] for r in rows}
    base = max(rows, key=lambda r: r["n"])
    rows += [estimate(n, args.dim, args.limit_mb, base) for n in CASES.values() if n not in measured]
    print_table(sorted(rows, key=lambda r: r["n"]), args.dim, args.limit_mb)


def print_table(rows: list[dict[str, Any]], d: int, limit_mb: int) -> None:
    print(f"\n{d} dimensions, --browser-limit-mb {limit_mb} (browser ranking up to {int(limit_mb * 1e6 / (d + 4)):,} images)")
    print("| images | rankings | export s | site MB | files | thumbnails MB | rankings MB | first map draw ms | load MB | click->curve ms | query MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    first = rows[0]
    for r in rows:
        mode = r["mode"] + (f", {r['queries']} queries" if r["queries"] else "")
        timed = (f"{r['first_draw_ms']:,.0f} ({r['first_draw_ms'] / first['first_draw_ms']:.1f}x) | {r['load_mb']:.2f} | "
                 f"{r['click_curve_ms']:,.0f} | {r['query_mb']:.2f}") if "first_draw_ms" in r else "- | - | - | -"
        export = f"{r['export_s']:,.1f}" if "export_s" in r else "-"
        print(f"| {r['n']:,} | {mode} | {export} | {r['bytes'] / 1e6:,.1f} | {r['files']:,.0f} | {r['thumbs'] / 1e6:,.1f} | "
              f"{r['rankings'] / 1e6:,.1f} | {timed} |")


if __name__ == "__main__":
    main()
