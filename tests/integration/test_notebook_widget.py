"""deepviz.show's widget from Python: queries by id, file, PIL image and vector go through the server's
own endpoints and rank like the page's; brushes set and read back through the page's URL form."""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import deepviz
from deepviz.errors import UsageError
from deepviz.features.registry import register_extractor, unregister_extractor
from tests.conftest import ColourExtractor

pytest.importorskip("anywidget")
from ipywidgets.widgets.widget import _remove_buffers  # noqa: E402 - after the skip

from deepviz.notebook.widget import DeepvizWidget  # noqa: E402 - after the skip


@pytest.fixture(scope="module")
def widget(tiny_project: Path) -> Iterator[DeepvizWidget]:
    register_extractor("colour", lambda **options: ColourExtractor())  # the extractor the tiny project names
    yield deepviz.show(tiny_project)
    unregister_extractor("colour")


def _get(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url) as res:  # noqa: S310 - the kernel's loopback server
        return res.read(), dict(res.headers)


def _ranked_ids(w: DeepvizWidget, query: str) -> list[int]:
    body, _ = _get(f"{w.src}api/rank/{query}")
    return np.frombuffer(body[: len(body) // 2], "<i4").tolist()


def test_the_app_is_served_for_notebook_pages_to_frame(widget: DeepvizWidget) -> None:
    body, headers = _get(widget.src)
    assert widget.src.startswith("http://127.0.0.1:") and b"<script" in body
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'self' http://localhost:* http://127.0.0.1:*" in csp and "x-frame-options" not in {k.lower() for k in headers}
    info = json.loads(_get(f"{widget.src}api/project")[0])
    assert info["name"] == "tiny" and info["can_embed"] is True


def test_queries_from_python_rank_like_the_page(widget: DeepvizWidget, tiny_project: Path) -> None:
    w = widget
    w.clear()
    project = deepviz.open_project(tiny_project)
    row = w.add_query(3)
    assert row.ref == "i3" and row.image_id == 3 and w.hash == "#q=i3:0:-&a=0"
    # Image 5 as its file and as its stored vector: uploads ranked like image 5 itself.
    by_file = w.add_query(project.source_path(5))
    by_vector = w.add_query(np.asarray(project.features()[5], np.float32))
    expected = _ranked_ids(w, "5")
    for q in (by_file, by_vector):
        assert q.ref.startswith("uu") and _ranked_ids(w, f"upload/{q.ref[1:]}")[:5] == expected[:5]
    # A PIL image and a uint8 array are uploaded as PNG files (these PNG bytes are the file's: the same query).
    assert w.add_query(Image.open(project.source_path(5))).ref == by_file.ref and w.active == 1
    mirrored = w.add_query(np.asarray(Image.open(project.source_path(5)).convert("RGB"))[:, ::-1])
    assert [q.ref for q in w.queries] == ["i3", by_file.ref, by_vector.ref, mirrored.ref] and w.active == 3
    assert [q.slot for q in w.queries] == [0, 1, 2, 3]
    w.set_brush(0, 2, 6)
    assert w.windows == [(2, 6), None, None, None] and w.active == 0
    w.remove_query(1)
    assert [q.ref for q in w.queries] == ["i3", by_vector.ref, mirrored.ref]


def test_the_page_state_reaches_python_with_an_event(widget: DeepvizWidget) -> None:
    w = widget
    seen: list[list[tuple[int, int] | None]] = []
    hovers: list[int | None] = []
    w.on_change(lambda view: seen.append(view.windows))
    w.on_hover(hovers.append)
    w.hash = "#q=i3:0:0-8,i9:1:-&a=1&s=64"  # what the page sends after a click on image 9 and a brush
    w.hovered = 4
    w.hovered = None
    assert seen[-1] == [(0, 8), None] and [q.image_id for q in w.queries] == [3, 9] and w.active == 1
    assert hovers == [4, None]


def test_bad_queries_say_what_to_give(widget: DeepvizWidget, tmp_path: Path) -> None:
    w = widget
    w.clear()
    with pytest.raises(UsageError, match="no image 1000000"):
        w.add_query(1_000_000)
    with pytest.raises(UsageError, match="not a file"):
        w.add_query(tmp_path / "missing.png")
    with pytest.raises(UsageError, match="has 12 values"):
        w.add_query(np.ones(5, np.float32))
    (tmp_path / "notes.png").write_text("not pixels")
    with pytest.raises(ValueError, match="notes.png is not a usable image"):
        w.add_query(tmp_path / "notes.png")
    with pytest.raises(IndexError, match="no query 0"):
        w.set_brush(0, 0, 5)
    with pytest.raises(ValueError, match="no text tower"):
        w.add_text("a red square")


def test_show_builds_arrays_into_a_temporary_project() -> None:
    rng = np.random.default_rng(0)
    w = deepviz.show(features=rng.normal(size=(20, 6)), labels=["a", "b"] * 10, progress=False)
    assert w.project.n == 20 and w.project.root.name == "arrays.deepviz"
    assert w.add_query(7).image_id == 7
    with pytest.raises(UsageError, match="not both"):
        deepviz.show(w.project, features=rng.normal(size=(20, 6)))


def test_a_highlight_set_in_python_is_synced_and_a_clear_on_the_page_comes_back(widget: DeepvizWidget) -> None:
    w = widget
    changes: list[list[int]] = []
    w.on_change(lambda view: changes.append(view.highlighted.tolist()))
    w.highlight([5, 1, 5])
    assert w.highlight_ids == np.array([1, 5], "<i4").tobytes() and w.highlighted.tolist() == [1, 5]
    # What the widget's front end sends when the page's button clears it: the model's bytes, emptied.
    w.set_state({"highlight_ids": memoryview(b"")})
    assert w.highlighted.tolist() == [] and changes == [[1, 5], []]
    # The synced state is one binary buffer, as the front end reads it.
    w.highlight(np.arange(w.project.n) % 2 == 0)
    _, paths, buffers = _remove_buffers(w.get_state())
    sent = dict(zip(map(tuple, paths), buffers))
    assert bytes(sent[("highlight_ids",)]) == np.arange(0, w.project.n, 2, dtype="<i4").tobytes()
    with pytest.raises(UsageError, match="no image"):
        w.highlight([w.project.n])
    w.highlight(None)
    assert w.highlighted.size == 0
