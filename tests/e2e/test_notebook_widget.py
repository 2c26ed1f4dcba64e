"""The widget in JupyterLab, in Chromium, through a Jupyter server this test starts: Python adds a query
and the row appears in the framed app; the brushed window the page chose is read back in Python; a
brush set in Python moves the strip; ids highlighted from Python are outlined on the map, and clearing
them on the page clears them in Python (also after the framed page reloads)."""
from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.e2e.chromium import NEEDS_BROWSER, ROOT, SHOTS

playwright_api = pytest.importorskip("playwright.sync_api")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("jupyterlab")
pytest.importorskip("anywidget")
pytestmark = NEEDS_BROWSER

TOKEN = "deepviz-test"
CELLS = [
    """import numpy as np
import deepviz
rng = np.random.default_rng(0)
which = np.arange(40) % 4
features = rng.normal(size=(4, 16))[which] + 0.1 * rng.normal(size=(40, 16))
view = deepviz.show(features=features, labels=[f"class {k}" for k in which], progress=False, height=520)
view""",
    "row = view.add_query(5)",
    'print("WINDOWS", view.windows)',
    "view.set_brush(0, 3, 7)",
    'view.highlight([2, 9])\nprint("SRC", view.src)',
    'print("HIGHLIGHTED", view.highlighted.tolist())',
]
MARK_RGB = (0x00, 0xE5, 0xFF)  # web/src/marks.ts MARK_COLOUR


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab on a free loopback port, serving a folder holding the test notebook; yields its URL."""
    folder = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbformat.write(nb, folder / "view.ipynb")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "JUPYTER_CONFIG_DIR": str(folder / ".config"), "JUPYTER_RUNTIME_DIR": str(folder / ".runtime")}
    log = (folder / "lab.log").open("wb")
    lab = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={folder}", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=log,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}api/status?token={TOKEN}", timeout=2):  # noqa: S310 - local test server
                break
        except OSError:
            if time.monotonic() > deadline or lab.poll() is not None:
                lab.kill()
                log.close()
                raise RuntimeError(f"JupyterLab did not start: {(folder / 'lab.log').read_text()[-2000:]}") from None
            time.sleep(0.5)
    try:
        yield url
    finally:
        lab.terminate()
        lab.wait(timeout=30)
        log.close()


def _run_cell(page: Any, index: int) -> None:
    """Run cell ``index`` as a person does (click, Shift+Enter) and wait until its prompt shows it ran."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.inner_text()
    for _ in range(10):  # a Shift+Enter before the kernel is connected only moves on: press again
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(
                "([el, before]) => /\\[\\d+\\]/.test(el.innerText) && el.innerText !== before",
                arg=[prompt.element_handle(), before], timeout=60_000,
            )
            return
        except playwright_api.TimeoutError:
            continue
    raise AssertionError(f"cell {index} did not run")


def _drag_brush(page: Any, row: Any, from_rank: float, to_rank: float, n: int) -> None:
    """Drag inside a framed row's brush selection from one rank to another (moves the window)."""
    box = row.locator(".brush .overlay").bounding_box()  # in the page's coordinates, frame and all
    y = box["y"] + box["height"] / 2
    x = lambda r: box["x"] + box["width"] * r / n  # noqa: E731
    page.mouse.move(x(from_rank), y)
    page.mouse.down()
    page.mouse.move(x(from_rank) + 5, y, steps=2)
    page.mouse.move(x(to_rank), y, steps=8)
    page.mouse.up()


def _output(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea-output")


def _printed(page: Any, index: int, pattern: str) -> re.Match[str]:
    """Run cell ``index`` until its output matches ``pattern`` (the page's state reaches the kernel a moment later)."""
    text = ""
    for _ in range(20):
        _run_cell(page, index)
        text = _output(page, index).inner_text(timeout=60_000)
        found = re.search(pattern, text)
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"cell {index} printed {text!r}, not {pattern!r}")


def _cell_box(page: Any, frame: Any, src: str, image_id: int) -> dict[str, float]:
    """The page-coordinates square of an image's cell on the framed map, in its "fit" view (as tests/e2e/test_app.py)."""
    canvas = frame.get_by_test_id("map-canvas")
    playwright_api.expect(canvas).not_to_have_attribute("data-grid-fitting", "true")
    aspect = canvas.get_attribute("data-grid-aspect")
    with urllib.request.urlopen(f"{src}api/grid" + (f"?aspect={aspect}" if aspect else "")) as res:  # noqa: S310 - the kernel's loopback server
        grid = np.frombuffer(res.read(), "<i4").reshape(-1, 2)
    rows, cols = int(canvas.get_attribute("data-rows")), int(canvas.get_attribute("data-cols"))
    box = canvas.bounding_box()
    k = min((int(box["width"]) - 8) / cols, (int(box["height"]) - 8) / rows)
    x0, y0 = (int(box["width"]) - cols * k) / 2, (int(box["height"]) - rows * k) / 2
    row, col = grid[image_id]
    return {"x": box["x"] + x0 + col * k, "y": box["y"] + y0 + row * k, "width": k, "height": k}


def _mark_pixels(page: Any, cell: dict[str, float]) -> int:
    """Pixels of the highlight's colour in a cell (as drawn, antialiasing allowed for)."""
    rgb = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=cell))).convert("RGB"), dtype=np.int16)
    return int((np.abs(rgb - np.array(MARK_RGB)).max(axis=2) < 40).sum())


def test_python_and_the_framed_app_share_queries_and_brushes(browser: Any, jupyter: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{jupyter}lab/tree/view.ipynb?token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)
    _run_cell(page, 0)
    frame = page.frame_locator("iframe[title=deepviz]")
    frame.locator("body[data-ready=true]").wait_for(timeout=180_000)
    _run_cell(page, 1)
    rows = frame.get_by_test_id("query-row")
    playwright_api.expect(rows).to_have_count(1, timeout=60_000)
    playwright_api.expect(rows.nth(0)).to_have_attribute("data-ref", "i5")
    playwright_api.expect(rows.nth(0).get_by_test_id("strip-image").first).to_be_visible()
    # A brush dragged on the page: Python reads the window back from the synced state.
    strip = rows.nth(0).get_by_test_id("strip-image")
    first = int(strip.first.get_attribute("data-rank"))
    _drag_brush(page, rows.nth(0), 2, 12, 40)
    playwright_api.expect(strip.first).not_to_have_attribute("data-rank", str(first), timeout=30_000)
    shown = [int(strip.nth(i).get_attribute("data-rank")) for i in range(strip.count())]
    windows = None
    for _ in range(20):
        _run_cell(page, 2)
        text = _output(page, 2).inner_text(timeout=60_000)
        found = re.search(r"WINDOWS \[\((\d+), (\d+)\)\]", text)
        if found:
            windows = (int(found[1]), int(found[2]))
            break
        time.sleep(0.5)
    assert windows == (shown[0], shown[-1] + 1) and shown[0] > 0, (text, shown)
    # A brush set in Python moves the strip to ranks 3..6.
    _run_cell(page, 3)
    playwright_api.expect(strip).to_have_count(4, timeout=60_000)
    assert [int(strip.nth(i).get_attribute("data-rank")) for i in range(4)] == [3, 4, 5, 6]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "30-notebook-widget.png"))
    # Ids highlighted in Python: outlined on the map, counted on the page's button.
    page.mouse.move(0, 0)  # no hover outline on the map
    _run_cell(page, 4)
    src = re.search(r"SRC (\S+)", _output(page, 4).inner_text(timeout=60_000))[1]  # type: ignore[index]
    marks = frame.get_by_test_id("marks")
    playwright_api.expect(marks).to_have_text("2 highlighted ×", timeout=30_000)
    page.locator("iframe[title=deepviz]").scroll_into_view_if_needed()  # running the cell scrolled the notebook on
    cells = {i: _cell_box(page, frame, src, i) for i in (2, 9, 11)}
    page.wait_for_timeout(300)  # the next frame is drawn
    k = cells[2]["width"]
    lit = {i: _mark_pixels(page, c) for i, c in cells.items()}
    page.screenshot(path=str(SHOTS / "31-notebook-highlight.png"))
    assert lit[2] > 2 * k and lit[9] > 2 * k and lit[11] < k, (lit, k)  # 11 is not highlighted
    # A page that reloads (a re-rendered output, say) asks for the marks again and gets them.
    framed = next(f for f in page.frames if f.url.startswith(src))
    framed.evaluate("location.reload()")
    frame.locator("body[data-ready=true]").wait_for(timeout=60_000)
    playwright_api.expect(marks).to_have_text("2 highlighted ×", timeout=30_000)
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    cells = {i: _cell_box(page, frame, src, i) for i in (2, 9)}
    assert _mark_pixels(page, cells[2]) > 2 * k and _mark_pixels(page, cells[9]) > 2 * k
    # Cleared on the page: the outlines go, and Python reads an empty highlight.
    marks.click()
    playwright_api.expect(marks).to_be_hidden()
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    again = {i: _cell_box(page, frame, src, i) for i in (2, 9)}
    assert again == {i: cells[i] for i in (2, 9)}  # the button over the map's corner moved nothing
    assert _mark_pixels(page, cells[2]) < k and _mark_pixels(page, cells[9]) < k
    page.screenshot(path=str(SHOTS / "32-notebook-highlight-cleared.png"))
    _printed(page, 5, r"HIGHLIGHTED \[\]")
    context.close()
