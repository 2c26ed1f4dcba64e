"""Take the tutorial's screenshots: Debian's Chromium at 1440x900 against a served demo project.

    deepviz serve ~/.cache/deepviz/demo/emoji.deepviz --no-open --port 8931 &
    python docs/scripts/screenshots.py http://127.0.0.1:8931/

Writes docs/img/*.png (PNG, palette-reduced with Pillow to keep each file small).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parents[1] / "img"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def save(page: Page, name: str) -> None:
    page.wait_for_timeout(1500)  # thumbnails arrive a few hundred per request
    png = page.screenshot()
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    OUT.mkdir(parents=True, exist_ok=True)
    image.save(OUT / f"{name}.png", optimize=True)
    print(name, (OUT / f"{name}.png").stat().st_size // 1024, "kB")


def open_at(page: Page, url: str) -> None:
    page.goto(url)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")


def main(url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        open_at(page, url)
        # Hover a cell of the map: the card with the image, its name, label and id.
        canvas = page.get_by_test_id("map-canvas")
        box = canvas.bounding_box()
        assert box
        page.mouse.move(box["x"] + box["width"] * 0.42, box["y"] + box["height"] * 0.38)
        save(page, "hover")
        # One query (the cat, id 97), its brushed window the top 8 ranks.
        open_at(page, f"{url}#q=i97:0:0-8")
        save(page, "one-query")
        # Moving the window down the ranking: ranks 40..48.
        open_at(page, f"{url}#q=i97:0:40-48")
        save(page, "window")
        # Two queries with rank links (the cat, the evergreen tree).
        open_at(page, f"{url}#q=i97:0:0-8,i114:0:0-8")
        save(page, "queries")
        # The share menu.
        page.get_by_test_id("session-menu").click()
        save(page, "share")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8931/")
