"""Benchmark the app in a browser at 1k, 100k and 1M images: does the page stay usable?

    python bench/bench_page.py [--cases 1k,100k,1m] [--dim 128] [--keep DIR] [--shots DIR] [--static DIR]
    python bench/bench_page.py --pan --cases 10k,100k,1m [--keep DIR]     panning the zoomed-out map only

Each case is a synthetic project (bench/synthetic.py: random --dim float16 features, a
row-major grid, a dozen distinct tiny JPEGs repeated in smooth regions, their mean colours)
served by a real uvicorn on 127.0.0.1 and opened in Debian's Chromium (Playwright) at
1600x1000. Measured in the page from the User Timing entries it writes (web/src/timing.ts:
the marks ``deepviz:first-draw:map`` and ``deepviz:first-draw:curve:<query>``, and a
``deepviz:map-frame`` measure per map frame whose ``detail`` says its mode, cells, cell size and
missing thumbnails), read with ``performance.getEntriesByName/Type``, and over CDP:

    first draw    ms from navigation start to the first map frame
    heap          JS heap used after a forced GC (MB), and ArrayBuffer backing stores where
                  Chromium reports them
    DOM           elements in the document
    click->curve  ms from a click on a map cell to that query's curve drawn (median of 3);
                  "fetch" is the median request to the ranking endpoints (/api/rank/..., /api/ranking/...:
                  server + transfer); the first of a query's waits for the whole ranking to be computed
    zoom, pan     ms of map drawing per frame (median / max) while wheel-zooming from the
                  overview in to thumbnails, and while dragging there; "interval" is the wall
                  time from one wheel event to the frame after it (the vsync wait included)
    hover         ms to handle one pointermove over the map and draw its frame (median)
    brush         ms per step of dragging out a new brush on a row's chart (wall, from
                  Playwright), and the map's drawing per frame meanwhile (max)
    bytes         transferred until the page settled, and per query
    fill          in a fresh page (empty caches): ms from the last wheel event that zooms the
                  map about its centre to ~13 px and then ~40 px per cell until every visible
                  cell shows its thumbnail at the size that zoom wants ("50%": until half do),
                  with the requests and bytes it took

``--pan`` measures only panning the zoomed-out map (issue 10's tile pyramid): at the fitted view
and zoomed to 4 px per cell, three drags of 120 mouse moves (8 px, 4 px each, out and back), one
per frame, dispatched in the page; "frame" is the wall time between successive frames (what the
eye sees, vsync included), "draw" the map's own drawing per frame; p50 and p95 of each over the
360 frames, and the share of frames over 33 ms. Each is measured twice in the same page
session: with the tiles, and with /api/tiles refused (the map falls back to mean colours, as
before tiles existed): the baseline. It also prints the time ``add_tiles`` took to write the
pyramid (what a build spends on it) and the disk the tiles take beside the thumbnails.

Ratios are against the first case, measured in this same run (after one untimed visit, so
the browser's own start-up is not in it). ``--static DIR`` serves another build of the front
end (e.g. one made from an older commit that writes these entries) for a before/after comparison. Screenshots go to
test-artifacts/screenshots/scale-*.png. Prints figures only; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_query import RealServer  # bench/ is on sys.path when run as a script
from synthetic import add_tiles, write_synthetic_project

CASES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
DIM = 128
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1600, "height": 1000}

# The page's User Timing entries (web/src/timing.ts).
FIRST_MAP = "deepviz:first-draw:map"
FIRST_CURVE = "deepviz:first-draw:curve:"
MAP_FRAME = "deepviz:map-frame"

# In-page helpers: each returns timings measured with performance.now() inside the page.
# `frames(t)`: the map-frame measures that began at or after t; `latest()`: the last frame's detail.
FRAMES = f"""
  const frames = (since) => performance.getEntriesByName('{MAP_FRAME}', 'measure').filter((e) => e.startTime >= since);
  const latest = () => {{
    const all = performance.getEntriesByName('{MAP_FRAME}', 'measure');
    return all.length ? all[all.length - 1].detail : {{ mode: '', cells: 0, cellPx: 0, missing: 0 }};
  }};
"""
FIRST_MAP_JS = f"() => performance.getEntriesByName('{FIRST_MAP}', 'mark').length > 0"
CURVE_MARKS_JS = f"() => performance.getEntriesByType('mark').filter((e) => e.name.startsWith('{FIRST_CURVE}'))"
CLICK_JS = """([fx, fy]) => {
  const c = document.querySelector('[data-testid=map-canvas]');
  const r = c.getBoundingClientRect();
  const at = { clientX: r.left + r.width * fx, clientY: r.top + r.height * fy, bubbles: true };
  const t0 = performance.now();
  c.dispatchEvent(new MouseEvent('click', at));
  return t0;
}"""
WHEEL_JS = """async ([steps, deltaY, fx, fy, untilPx]) => {""" + FRAMES + """
  const c = document.querySelector('[data-testid=map-canvas]');
  const r = c.getBoundingClientRect();
  const frame = () => new Promise((done) => requestAnimationFrame(() => done()));
  const start = performance.now();
  const intervals = [];
  for (let i = 0; i < steps && latest().cellPx < untilPx; i++) {
    const t0 = performance.now();
    c.dispatchEvent(new WheelEvent('wheel', { deltaY, clientX: r.left + r.width * fx, clientY: r.top + r.height * fy, bubbles: true, cancelable: true }));
    await frame();
    intervals.push(performance.now() - t0);
  }
  await frame();
  const p = latest();
  return { intervals, draws: frames(start).map((e) => e.duration), mode: p.mode, cells: p.cells, cellPx: p.cellPx };
}"""
FILL_JS = """async ([targetPx, timeoutMs]) => {""" + FRAMES + """
  const c = document.querySelector('[data-testid=map-canvas]');
  const r = c.getBoundingClientRect();
  const frame = () => new Promise((done) => requestAnimationFrame(() => done()));
  const deltaY = latest().cellPx < targetPx ? -50 : 50;
  let t0 = performance.now();
  for (let i = 0; i < 400 && (deltaY < 0 ? latest().cellPx < targetPx : latest().cellPx > targetPx); i++) {
    t0 = performance.now();
    c.dispatchEvent(new WheelEvent('wheel', { deltaY, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true }));
    await frame();
  }
  let half = null;
  while (performance.now() - t0 < timeoutMs) {
    const p = latest();
    if (p.mode === 'cells') {
      if (half === null && p.missing <= p.cells / 2) half = performance.now() - t0;
      if (p.missing === 0) return { ms: performance.now() - t0, half, cells: p.cells, cellPx: p.cellPx, missing: 0 };
    }
    await frame();
  }
  const p = latest();
  return { ms: null, half, cells: p.cells, cellPx: p.cellPx, missing: p.missing };
}"""
HOVER_JS = """async (steps) => {""" + FRAMES + """
  const c = document.querySelector('[data-testid=map-canvas]');
  const r = c.getBoundingClientRect();
  const frame = () => new Promise((done) => requestAnimationFrame(() => done()));
  const out = [];
  for (let i = 0; i < steps; i++) {
    const at = { clientX: r.left + r.width * (0.3 + 0.4 * i / steps), clientY: r.top + r.height * (0.35 + 0.3 * ((i * 7) % steps) / steps), bubbles: true };
    const t0 = performance.now();
    c.dispatchEvent(new PointerEvent('pointermove', at));
    const handled = performance.now() - t0;
    await frame();
    out.push(handled + frames(t0).reduce((a, e) => a + e.duration, 0));
  }
  c.dispatchEvent(new PointerEvent('pointerleave', { bubbles: true }));
  return out;
}"""
# Zoom with the wheel about the pane's centre until a cell is about `px` CSS px.
ZOOM_TO_JS = """async (px) => {""" + FRAMES + """
  const c = document.querySelector('[data-testid=map-canvas]');
  const r = c.getBoundingClientRect();
  const frame = () => new Promise((done) => requestAnimationFrame(() => done()));
  const deltaY = latest().cellPx < px ? -50 : 50;
  for (let i = 0; i < 400 && (deltaY < 0 ? latest().cellPx < px : latest().cellPx > px); i++) {
    c.dispatchEvent(new WheelEvent('wheel', { deltaY, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true }));
    await frame();
  }
  return latest().cellPx;
}"""
# Drag the map with one mouse move per frame (d3-zoom listens on the canvas, then on the window).
PAN_JS = """async ([steps, dx, dy]) => {""" + FRAMES + """
  const c = document.querySelector('[data-testid=map-canvas]');
  const r = c.getBoundingClientRect();
  const frame = () => new Promise((done) => requestAnimationFrame(() => done()));
  const at = (x, y) => ({ clientX: x, clientY: y, bubbles: true, cancelable: true, view: window, button: 0 });
  let x = r.left + r.width / 2;
  let y = r.top + r.height / 2;
  c.dispatchEvent(new MouseEvent('mousedown', at(x, y)));
  await frame();
  const start = performance.now();
  let prev = start;
  const intervals = [];
  for (let i = 0; i < steps; i++) {
    const back = i >= steps / 2 ? -1 : 1;
    x += back * dx;
    y += back * dy;
    window.dispatchEvent(new MouseEvent('mousemove', at(x, y)));
    await frame();
    const now = performance.now();
    intervals.push(now - prev);
    prev = now;
  }
  window.dispatchEvent(new MouseEvent('mouseup', at(x, y)));
  await frame();
  const p = latest();
  return { intervals, draws: frames(start).map((e) => e.duration), mode: p.mode, tilePx: p.tilePx || 0, cellPx: p.cellPx, missing: p.missing };
}"""
SETTLED_JS = "() => {" + FRAMES + " const p = latest(); return p.mode !== 'tiles' || p.missing === 0; }"
# Durations of the map frames that began at or after a performance.now() time.
FRAMES_SINCE_JS = "(since) => {" + FRAMES + " return frames(since).map((e) => e.duration); }"
LATEST_JS = "() => {" + FRAMES + " return latest(); }"


class Traffic:
    """Bytes and requests over CDP's Network domain (what the page really fetched, headers included)."""

    def __init__(self, cdp: Any) -> None:
        self.bytes = 0
        self.requests = 0
        self.in_flight: set[str] = set()
        self.last_change = time.monotonic()
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)

    def _sent(self, e: dict[str, Any]) -> None:
        self.in_flight.add(e["requestId"])
        self.requests += 1
        self.last_change = time.monotonic()

    def _finished(self, e: dict[str, Any]) -> None:
        self.in_flight.discard(e["requestId"])
        self.bytes += int(e.get("encodedDataLength", 0))
        self.last_change = time.monotonic()

    def _failed(self, e: dict[str, Any]) -> None:
        self.in_flight.discard(e["requestId"])
        self.last_change = time.monotonic()

    def settle(self, page: Any, quiet_s: float = 0.6, timeout_s: float = 120.0) -> float:
        """Wait until nothing has been in flight for ``quiet_s``; returns seconds waited."""
        t = time.monotonic()
        while time.monotonic() - t < timeout_s:
            page.wait_for_timeout(100)
            if not self.in_flight and time.monotonic() - self.last_change > quiet_s:
                break
        return time.monotonic() - t


def heap_mb(cdp: Any) -> tuple[float, float | None]:
    """(JS heap used, ArrayBuffer backing stores or None) in MB, after a forced GC."""
    cdp.send("HeapProfiler.collectGarbage")
    usage = cdp.send("Runtime.getHeapUsage")
    backing = usage.get("backingStorageSize")
    return usage["usedSize"] / 1e6, (backing / 1e6 if backing is not None else None)


def ready_project(tmp: Path, label: str, n: int) -> Path:
    root = tmp / (f"page-{label}.deepviz" if DIM == 128 else f"page-{label}-{DIM}d.deepviz")
    if (root / "manifest.json").is_file():
        return root
    if root.exists():
        import shutil

        shutil.rmtree(root)
    t = time.perf_counter()
    write_synthetic_project(root, n, DIM, thumbs=True)
    print(f"   wrote {root} in {time.perf_counter() - t:.0f} s", flush=True)
    seconds = add_tiles(root)
    tiles = sum(f.stat().st_size for f in (root / "tiles").rglob("*") if f.is_file())
    thumbs = sum(f.stat().st_size for f in (root / "thumbs").rglob("*") if f.is_file())
    (root / "bench-tiles.json").write_text(json.dumps({"seconds": seconds, "tile_bytes": tiles, "thumb_bytes": thumbs}))
    print(f"   tile pyramid in {seconds:.1f} s, {tiles / 1e6:.1f} MB (thumbnails {thumbs / 1e6:.0f} MB)", flush=True)
    return root


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


PAN_REPEATS = 3


def pan_once(page: Any, cell_px: float | None, tiles: bool) -> dict[str, Any]:
    """Zoom to ``cell_px`` (None: the fitted view), let the tiles arrive (if served), then drag for
    120 frames, PAN_REPEATS times; percentiles of all the frames together."""
    if cell_px is not None:
        page.evaluate(ZOOM_TO_JS, cell_px)
    intervals: list[float] = []
    draws: list[float] = []
    for _ in range(PAN_REPEATS):
        if tiles:
            page.wait_for_function(SETTLED_JS, timeout=120_000)
        page.wait_for_timeout(1000)  # refused tiles never arrive: the mean colours are all there is
        r = page.evaluate(PAN_JS, [120, 8, 4])
        intervals += r["intervals"]
        draws += r["draws"]
    return {
        "cellPx": r["cellPx"], "mode": r["mode"], "tilePx": r["tilePx"], "missing": r["missing"],
        "frame50": _percentile(intervals, 50), "frame95": _percentile(intervals, 95),
        "over33": sum(v > 33.4 for v in intervals) / len(intervals),
        "draw50": _percentile(draws, 50), "draw95": _percentile(draws, 95),
    }


def bench_pan(browser: Any, label: str, n: int, tmp: Path, shots: Path, static: Path | None) -> list[dict[str, Any]]:
    """Panning the zoomed-out map, with tiles and with tiles refused, at the fitted view and at 4 px per cell."""
    from deepviz.server.app import create_app

    root = ready_project(tmp, label, n)
    build = json.loads((root / "bench-tiles.json").read_text())
    app = create_app(root, static_dir=static, grids_dir=root / "fitted-grids")
    rows = []
    with RealServer(app) as url:
        for view in (None, 4.0):
            row: dict[str, Any] = {"case": f"{label} ({n:,})", "view": "fit" if view is None else f"{view:.0f} px", **build}
            for tiles in (True, False):
                context = browser.new_context(viewport=VIEWPORT)
                page = context.new_page()
                if not tiles:
                    page.route("**/api/tiles/**", lambda route: route.abort())
                page.goto(url + "/")
                page.wait_for_function(FIRST_MAP_JS, timeout=300_000)
                # The grid fitted to the pane (computed in the background above 10k images) before measuring.
                page.wait_for_function("() => document.querySelector('[data-testid=map-canvas]').dataset.gridAspect", timeout=600_000)
                row["tiles" if tiles else "colours"] = pan_once(page, view, tiles)
                page.screenshot(path=str(shots / f"pan-{label}-{row['view'].replace(' ', '')}-{'tiles' if tiles else 'colours'}.png"))
                context.close()
            rows.append(row)
            print(f"   {row['view']}: {row}", flush=True)
    return rows


def print_pan_table(rows: list[dict[str, Any]]) -> None:
    print("\nPanning the zoomed-out map: ms per frame (wall, vsync included) and of the map's drawing, p50 / p95;")
    print("'mean colours' = the same page with /api/tiles refused (the map before tiles), in the same run.\n")
    head = (f"{'case':<18}{'view':>6}{'cell px':>8}{'level':>6}{'frame p50':>10}{'p95':>7}{'>33ms':>7}{'draw p50':>9}{'p95':>7}"
            f"{'| colours frame p50':>19}{'p95':>7}{'>33ms':>7}{'draw p50':>9}{'p95':>7}{'tiles s':>9}{'tiles MB':>9}{'thumbs MB':>10}")
    print(head)
    print("-" * len(head))
    for r in rows:
        t, c = r["tiles"], r["colours"]
        print(f"{r['case']:<18}{r['view']:>6}{t['cellPx']:>8.1f}{t['tilePx']:>6}{t['frame50']:>10.1f}{t['frame95']:>7.1f}"
              f"{t['over33']:>7.0%}{t['draw50']:>9.1f}{t['draw95']:>7.1f}{c['frame50']:>19.1f}{c['frame95']:>7.1f}{c['over33']:>7.0%}"
              f"{c['draw50']:>9.1f}{c['draw95']:>7.1f}"
              f"{r['seconds']:>9.1f}{r['tile_bytes'] / 1e6:>9.1f}{r['thumb_bytes'] / 1e6:>10.0f}")


def bench_case(
    browser: Any, label: str, n: int, tmp: Path, shots: Path, static: Path | None, prefix: str
) -> dict[str, Any]:
    from deepviz.server.app import create_app

    app = create_app(ready_project(tmp, label, n), static_dir=static)
    t = time.perf_counter()
    app.state.deepviz.warm_up()  # as `deepviz serve` does in the background
    warm = time.perf_counter() - t
    out: dict[str, Any] = {"case": f"{label} ({n:,}x{DIM})", "warm_s": warm}
    with RealServer(app) as url:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        # Thumbnails alone overflow the default 250 entries before the rankings are fetched.
        page.add_init_script("performance.setResourceTimingBufferSize(1e6)")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        cdp = context.new_cdp_session(page)
        traffic = Traffic(cdp)
        page.goto(url + "/")
        page.wait_for_function(FIRST_MAP_JS, timeout=300_000)
        out["first_draw"] = page.evaluate(f"() => performance.getEntriesByName('{FIRST_MAP}', 'mark')[0].startTime")
        traffic.settle(page)
        out["bytes_load"] = traffic.bytes
        out["requests_load"] = traffic.requests
        out["heap"], out["backing"] = heap_mb(cdp)
        out["dom"] = page.evaluate("() => document.getElementsByTagName('*').length")
        out["mode"] = page.evaluate(LATEST_JS)["mode"]
        page.screenshot(path=str(shots / f"{prefix}-{label}-map.png"))

        clicks = []
        before = traffic.bytes
        for fx, fy in [(0.5, 0.5), (0.3, 0.7), (0.72, 0.25)]:
            marks_before = page.evaluate(f"() => ({CURVE_MARKS_JS})().length")
            t0 = page.evaluate(CLICK_JS, [fx, fy])
            page.wait_for_function(f"() => ({CURVE_MARKS_JS})().length > {marks_before}", timeout=120_000)
            latest = page.evaluate(f"() => Math.max(...({CURVE_MARKS_JS})().map((e) => e.startTime))")
            clicks.append(latest - t0)
        traffic.settle(page)
        out["click_curve"] = statistics.median(clicks)
        fetches = page.evaluate(
            "() => performance.getEntriesByType('resource').filter((e) => /[/]api[/]rank(ing)?[/]/.test(e.name)).map((e) => e.duration)"
        )
        out["rank_fetch"] = statistics.median(fetches) if fetches else float("nan")
        out["bytes_query"] = (traffic.bytes - before) / 3
        out["heap_q"], out["backing_q"] = heap_mb(cdp)
        out["dom_q"] = page.evaluate("() => document.getElementsByTagName('*').length")
        page.screenshot(path=str(shots / f"{prefix}-{label}-queries.png"))

        # Brush: drag out a new window on the active (last) row's chart, wider at every step.
        overlay = page.get_by_test_id("query-row").last.locator(".brush .overlay")
        if overlay.count():
            box = overlay.bounding_box()
            y = box["y"] + box["height"] / 2
            start = page.evaluate("() => performance.now()")
            page.mouse.move(box["x"] + 4, y)
            page.mouse.down()
            t = time.perf_counter()
            page.mouse.move(box["x"] + box["width"] * 0.3, y, steps=20)
            page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
            out["brush_wall"] = (time.perf_counter() - t) * 1e3 / 20
            page.mouse.up()
            drawn = page.evaluate(FRAMES_SINCE_JS, start)
            out["brush_draw"] = max(drawn) if drawn else float("nan")
        else:
            out["brush_wall"] = out["brush_draw"] = float("nan")
        page.screenshot(path=str(shots / f"{prefix}-{label}-brushed.png"))

        hovers = page.evaluate(HOVER_JS, 40)
        out["hover"] = statistics.median(hovers)
        out["hover_max"] = max(hovers)

        # Zoom in from the fitted overview until cells are thumbnail-sized (about 40 px).
        zoom = page.evaluate(WHEEL_JS, [200, -50, 0.5, 0.5, 40])
        requests_before = traffic.requests
        traffic.settle(page)
        out["zoom_draw"] = statistics.median(zoom["draws"]) if zoom["draws"] else float("nan")
        out["zoom_max"] = max(zoom["draws"]) if zoom["draws"] else float("nan")
        out["zoom_interval"] = statistics.median(zoom["intervals"])
        out["zoom_mode"] = f"{zoom['mode']} {zoom['cells']} cells of {zoom['cellPx']:.0f} px after {len(zoom['intervals'])} wheel steps"
        page.screenshot(path=str(shots / f"{prefix}-{label}-zoomed.png"))

        # Pan: drag across the canvas with the real mouse.
        box = page.get_by_test_id("map-canvas").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        start = page.evaluate("() => performance.now()")
        t = time.perf_counter()
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move(cx - 300, cy - 200, steps=30)
        page.mouse.up()
        pan_wall = (time.perf_counter() - t) * 1e3 / 30
        pan = page.evaluate(FRAMES_SINCE_JS, start)
        out["pan_draw"] = statistics.median(pan) if pan else float("nan")
        out["pan_max"] = max(pan) if pan else float("nan")
        out["pan_wall"] = pan_wall
        traffic.settle(page)
        out["thumb_requests"] = traffic.requests - requests_before
        page.screenshot(path=str(shots / f"{prefix}-{label}-panned.png"))
        out["heap_end"], out["backing_end"] = heap_mb(cdp)
        out["errors"] = errors
        context.close()
        out["fill"] = measure_fill(browser, url, shots, f"{prefix}-{label}")
    return out


def measure_fill(browser: Any, url: str, shots: Path, name: str, timeout_s: float = 120.0) -> list[dict[str, Any]]:
    """Fill times after zooming to ~13 and then ~40 px per cell, in a fresh context (no cached thumbnails)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    traffic = Traffic(cdp)
    page.goto(url + "/")
    page.wait_for_function(FIRST_MAP_JS, timeout=300_000)
    traffic.settle(page)
    fills = []
    for px in (13, 40):
        requests, sent = traffic.requests, traffic.bytes
        fill = page.evaluate(FILL_JS, [px, timeout_s * 1e3])
        traffic.settle(page)
        fill["requests"] = traffic.requests - requests
        fill["bytes"] = traffic.bytes - sent
        fills.append(fill)
        page.screenshot(path=str(shots / f"{name}-fill{px}.png"))
    context.close()
    return fills


def print_table(rows: list[dict[str, Any]]) -> None:
    base = rows[0]

    def ratio(r: dict[str, Any], key: str) -> str:
        b = float(base[key])
        return f"x{float(r[key]) / b:.1f}" if b > 0 else "-"

    def mb(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"

    print("\nTimes in ms (medians unless 'max'), sizes in MB; ratio = against the first row.")
    print("draw = the map's own drawing per frame; interval = wheel event to next frame (vsync included).\n")
    head = (
        f"{'case':<22}{'first draw':>11}{'ratio':>7}{'heap':>7}{'+bufs':>7}{'heap q':>8}{'+bufs':>7}{'DOM':>6}{'DOM q':>7}"
        f"{'click->curve':>13}{'ratio':>7}{'fetch':>6}{'hover':>7}{'brush':>6}{'max':>6}{'zoom draw':>10}{'max':>7}{'interval':>9}{'pan draw':>9}{'max':>7}"
        f"{'load MB':>9}{'ratio':>7}{'query MB':>9}{'thumbs':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['case']:<22}{r['first_draw']:>11.0f}{ratio(r, 'first_draw'):>7}{r['heap']:>7.1f}{mb(r['backing']):>7}"
            f"{r['heap_q']:>8.1f}{mb(r['backing_q']):>7}{r['dom']:>6}{r['dom_q']:>7}{r['click_curve']:>13.0f}"
            f"{ratio(r, 'click_curve'):>7}{r['rank_fetch']:>6.0f}{r['hover']:>7.1f}{r['brush_wall']:>6.0f}{r['brush_draw']:>6.1f}{r['zoom_draw']:>10.1f}{r['zoom_max']:>7.1f}"
            f"{r['zoom_interval']:>9.1f}{r['pan_draw']:>9.1f}{r['pan_max']:>7.1f}{r['bytes_load'] / 1e6:>9.2f}"
            f"{ratio(r, 'bytes_load'):>7}{r['bytes_query'] / 1e6:>9.2f}{r['thumb_requests']:>7}"
        )
    print("\nFill: ms from the last zoom step until every visible cell shows its thumbnail (fresh page, empty caches).\n")
    head = f"{'case':<22}{'cell px':>8}{'cells':>7}{'50% ms':>8}{'fill ms':>9}{'requests':>9}{'MB':>7}"
    print(head)
    print("-" * len(head))
    for r in rows:
        for f in r["fill"]:
            left = "n/a" if f["missing"] is None else f"{f['missing']} left"
            done = f"{f['ms']:>9.0f}" if f["ms"] is not None else f"{left:>9}"
            half = f"{f['half']:>8.0f}" if f["half"] is not None else f"{'-':>8}"
            print(f"{r['case']:<22}{f['cellPx']:>8.1f}{f['cells']:>7}{half}{done}{f['requests']:>9}{f['bytes'] / 1e6:>7.2f}")
    print()
    for r in rows:
        extra = f"; page errors: {r['errors']}" if r["errors"] else ""
        print(
            f"{r['case']}: server warm-up {r['warm_s']:.1f} s; map at load: {r['mode']}; after zoom: {r['zoom_mode']}; "
            f"hover max {r['hover_max']:.1f} ms; pan {r['pan_wall']:.0f} ms/step wall; heap at end {r['heap_end']:.1f} MB"
            f" (+{mb(r['backing_end'])} buffers){extra}"
        )


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="1k,100k,1m", help=f"comma-separated, from {list(CASES)}; the first is the baseline")
    parser.add_argument("--keep", type=Path, help="write (and reuse) the synthetic projects here instead of a temp dir")
    parser.add_argument("--shots", type=Path, default=ROOT / "test-artifacts" / "screenshots")
    parser.add_argument("--static", type=Path, help="serve this built front end instead of the package's")
    parser.add_argument("--prefix", default="scale", help="screenshot names start with this")
    parser.add_argument("--dim", type=int, default=128, help="feature dimensions of the synthetic projects (the default model gives 1280)")
    parser.add_argument("--pan", action="store_true", help="measure only panning the zoomed-out map (tiles against mean colours)")
    args = parser.parse_args()
    global DIM
    DIM = args.dim
    args.shots.mkdir(parents=True, exist_ok=True)
    if not (ROOT / "deepviz" / "server" / "static" / "index.html").is_file():
        sys.exit("the front end is not built: cd web && npm ci && npm run build")
    rows = []
    with tempfile.TemporaryDirectory(prefix="deepviz-bench-page-") as tmp_dir, sync_playwright() as p:
        tmp = args.keep or Path(tmp_dir)
        tmp.mkdir(parents=True, exist_ok=True)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        labels = args.cases.split(",")
        if args.pan:
            pans = []
            for label in labels:
                print(f"== {label}: {CASES[label]:,} images, panning ...", flush=True)
                pans += bench_pan(browser, label, CASES[label], tmp, args.shots, args.static)
            browser.close()
            print_pan_table(pans)
            print(f"load average at the end: {os.getloadavg()} on {os.cpu_count()} CPUs")
            return
        print(f"== warming up the browser on {labels[0]} (not timed) ...", flush=True)
        bench_case(browser, labels[0], CASES[labels[0]], tmp, Path(tmp_dir), args.static, "warm-up")
        for label in labels:
            print(f"== {label}: {CASES[label]:,} images ...", flush=True)
            rows.append(bench_case(browser, label, CASES[label], tmp, args.shots, args.static, args.prefix))
        browser.close()
    print_table(rows)


if __name__ == "__main__":
    main()
