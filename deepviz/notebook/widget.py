"""``DeepvizWidget``: the app in a notebook cell (anywidget), its state readable and settable from Python.

The front end is the app the package ships, served by the kernel (see ``served.py``) and framed by
the widget (``widget.js``); the page and the widget exchange the URL hash, so Python reads and sets
exactly what a shared link holds: the queries and their brushed windows.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anywidget
import numpy as np
import traitlets
from ipywidgets.widgets.trait_types import bytes_serialization

from deepviz.errors import UsageError
from deepviz.notebook import state
from deepviz.notebook.served import Served, image_bytes
from deepviz.storage.project import Project

__all__ = ["DeepvizWidget"]


class DeepvizWidget(anywidget.AnyWidget):
    """The deepviz app for one project in a notebook output; made by ``deepviz.show``.

    Read: ``queries`` (each a ``PageQuery``: ``ref``, ``image_id``, ``window``), ``windows`` (the
    brushed (lo, hi) rank window of each query, None until the row has laid out), ``active``,
    ``hovered`` (the image id under the pointer, or None). Set: ``add_query``, ``add_text``,
    ``set_brush``, ``remove_query``, ``clear``, ``highlight`` (ids outlined on the map; ``highlighted``
    reads them, and the page's button clears them). ``on_change(fn)`` calls ``fn(widget)`` when the
    page's state changes (a click, a brush, the highlight cleared), ``on_hover(fn)`` calls ``fn(id or None)``.
    """

    _esm = Path(__file__).with_name("widget.js")
    src = traitlets.Unicode("").tag(sync=True)
    hash = traitlets.Unicode("").tag(sync=True)
    hovered = traitlets.Int(None, allow_none=True).tag(sync=True)
    height = traitlets.Int(640).tag(sync=True)
    # Sent as one binary buffer, not a JSON list: a highlight may be a million ids.
    highlight_ids = traitlets.Bytes(b"").tag(sync=True, **bytes_serialization)

    def __init__(self, project: Project, served: Served, height: int = 640) -> None:
        super().__init__(src=served.url, hash="", height=height)
        self.project = project
        self._served = served

    def __repr__(self) -> str:
        return f"DeepvizWidget({self.project.root}, {len(self.queries)} queries)"

    # ------------------------------------------------------------------ read

    @property
    def queries(self) -> list[state.PageQuery]:
        return state.parse_queries(self.hash)[0]

    @property
    def windows(self) -> list[tuple[int, int] | None]:
        return [q.window for q in self.queries]

    @property
    def active(self) -> int:
        """Index of the query whose window lights up the map (-1: none)."""
        return state.parse_queries(self.hash)[1]

    @property
    def highlighted(self) -> np.ndarray:
        """(K,) int32 ids outlined on the map, ascending; empty when none (or the page's button cleared them)."""
        return state.highlight_ids(self.highlight_ids)

    @property
    def feature_set(self) -> str:
        """The feature set the page ranks with (its ``f`` key, else the project's default)."""
        for part in self.hash.removeprefix("#").split("&"):
            key, _, value = part.partition("=")
            if key == "f" and value:
                name = unquote(value)
                if name in self.project.feature_sets:
                    return name
        return self.project.default_feature_set

    # ------------------------------------------------------------------ set

    def add_query(self, query: int | str | os.PathLike[str] | np.ndarray | Any) -> state.PageQuery:
        """Add a query row: an image id, an image file's path, a PIL image or (H, W[, C]) uint8 array
        (embedded by the project's model, as an upload), or a (D,) feature vector. Returns the row."""
        if isinstance(query, (int, np.integer)):
            if not 0 <= int(query) < self.project.n:
                raise UsageError(f"no image {int(query)}: ids are 0..{self.project.n - 1}")
            ref = f"i{int(query)}"
        elif isinstance(query, (str, os.PathLike)):
            path = Path(query)
            if not path.is_file():
                raise UsageError(f"{path} is not a file; give an image id, an image file, a PIL image or a vector")
            ref = "u" + self._served.upload(path.read_bytes(), path.name, self.feature_set)
        elif isinstance(query, np.ndarray) and query.ndim == 1:
            ref = "u" + self._served.vector(query, self.feature_set)
        else:
            data, name = image_bytes(query)
            ref = "u" + self._served.upload(data, name, self.feature_set)
        return self._set_and_find(state.add_query(self.hash, ref), ref)

    def add_text(self, text: str) -> state.PageQuery:
        """Add a text query (a CLIP-like feature set's text tower embeds it). Returns the row."""
        ref = "u" + self._served.text(text, self.feature_set)
        return self._set_and_find(state.add_query(self.hash, ref), ref)

    def set_brush(self, index: int, lo: int, hi: int) -> None:
        """Brush ranks ``lo``..``hi``-1 of query ``index`` (its strip shows them; the map lights them up)."""
        if hi > self.project.n:
            raise UsageError(f"rank {hi - 1} is beyond the last rank, {self.project.n - 1}")
        self.hash = state.set_window(self.hash, index, lo, hi)

    def remove_query(self, index: int) -> None:
        queries, active = state.parse_queries(self.hash)
        if not 0 <= index < len(queries):
            raise IndexError(f"no query {index}: the view has {len(queries)}")
        del queries[index]
        self.hash = state.with_queries(self.hash, queries, min(active, len(queries) - 1))

    def clear(self) -> None:
        self.hash = state.with_queries(self.hash, [], -1)

    def highlight(self, ids: Iterable[int] | np.ndarray | None) -> None:
        """Outline these images on the map: ids, or an (N,) boolean mask (``labels == "cat"``); None or [] clears."""
        try:
            self.highlight_ids = state.highlight_bytes(ids, self.project.n)
        except ValueError as err:
            raise UsageError(str(err)) from None

    def on_change(self, callback: Callable[[DeepvizWidget], None]) -> None:
        """Call ``callback(widget)`` after every change of the page's state (queries, windows, settings, highlight)."""
        self.observe(lambda _change: callback(self), names=["hash", "highlight_ids"])

    def on_hover(self, callback: Callable[[int | None], None]) -> None:
        """Call ``callback(image_id or None)`` when the pointer moves onto another image (or off images)."""
        self.observe(lambda change: callback(change["new"]), names=["hovered"])

    def _set_and_find(self, new_hash: str, ref: str) -> state.PageQuery:
        self.hash = new_hash
        return next(q for q in self.queries if q.ref == ref)
