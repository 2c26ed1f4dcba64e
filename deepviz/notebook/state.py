"""The page's state as Python reads and writes it: the URL hash's query list (``q``, ``a``), and the
ids highlighted on the map (kept beside the hash: a set may be a million ids).

The mirror of ``web/src/queryList.ts``'s URL form: ``q=i12:0:0-20,uKEY:1:-&a=1`` lists each query
as REF:SLOT:WINDOW (REF ``i<id>`` or ``u<upload key>``; WINDOW ``lo-hi``, ranks lo..hi-1, or ``-``
for the row's default) and ``a`` is the active query. Other keys (the page's settings) are kept
as they are.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import quote, unquote

import numpy as np

__all__ = ["PageQuery", "add_query", "highlight_bytes", "highlight_ids", "parse_queries", "set_window", "with_queries"]


@dataclass(frozen=True)
class PageQuery:
    """One query row: ``ref`` ("i12" or "u<key>"), its colour ``slot`` and brushed ``window`` (lo, hi) or None."""

    ref: str
    slot: int
    window: tuple[int, int] | None

    @property
    def image_id(self) -> int | None:
        """The project image this query is, or None for an uploaded image, a text or a vector."""
        return int(self.ref[1:]) if self.ref.startswith("i") else None


def _params(hash_: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in hash_.removeprefix("#").split("&"):
        key, eq, value = part.partition("=")
        if key and eq:
            params[key] = value
    return params


def parse_queries(hash_: str) -> tuple[list[PageQuery], int]:
    """(queries, index of the active one or -1), read as the page reads them; malformed entries are skipped."""
    params = _params(hash_)
    queries: list[PageQuery] = []
    for entry in filter(None, params.get("q", "").split(",")):
        query = _parse_query(entry)
        if query is not None and all(q.ref != query.ref for q in queries):
            queries.append(query)
    active = params.get("a", "")
    index = int(active) if active.lstrip("-").isdigit() else -1
    return queries, index if 0 <= index < len(queries) else len(queries) - 1


def _parse_query(entry: str) -> PageQuery | None:
    ref_text, _, rest = entry.partition(":")
    slot_text, _, window_text = rest.partition(":")
    ref = unquote(ref_text)
    if not ((ref.startswith("i") and ref[1:].isdigit()) or (ref.startswith("u") and len(ref) > 1)):
        return None
    lo, dash, hi = window_text.partition("-")
    window = (int(lo), int(hi)) if dash and lo.isdigit() and hi.isdigit() and int(hi) > int(lo) else None
    return PageQuery(ref, int(slot_text) if slot_text.isdigit() else 0, window)


def with_queries(hash_: str, queries: list[PageQuery], active: int) -> str:
    """``hash_`` with its query list replaced (every other key kept, in its place)."""
    params = _params(hash_)
    entries = [f"{quote(q.ref, safe='')}:{q.slot}:{f'{q.window[0]}-{q.window[1]}' if q.window else '-'}" for q in queries]
    params["q"] = ",".join(entries)
    params["a"] = str(active)
    return "#" + "&".join(f"{k}={v}" for k, v in params.items())


def add_query(hash_: str, ref: str) -> str:
    """``ref`` added as the active query in the first free colour (made active if it is already a query)."""
    queries, _ = parse_queries(hash_)
    for i, q in enumerate(queries):
        if q.ref == ref:
            return with_queries(hash_, queries, i)
    used = {q.slot for q in queries}
    slot = next(s for s in range(len(used) + 1) if s not in used)
    return with_queries(hash_, [*queries, PageQuery(ref, slot, None)], len(queries))


def set_window(hash_: str, index: int, lo: int, hi: int) -> str:
    """Query ``index``'s brushed window set to ranks ``lo``..``hi``-1, and made the active query."""
    queries, _ = parse_queries(hash_)
    if not 0 <= index < len(queries):
        raise IndexError(f"no query {index}: the view has {len(queries)} (0..{len(queries) - 1})")
    if not 0 <= lo < hi:
        raise ValueError(f"a window is ranks lo..hi-1 with 0 <= lo < hi, got lo={lo}, hi={hi}")
    queries[index] = replace(queries[index], window=(lo, hi))
    return with_queries(hash_, queries, index)


def highlight_bytes(ids: Iterable[int] | np.ndarray | None, n: int) -> bytes:
    """Image ids to highlight, as the widget sends them to the page: ascending, each once, int32 little-endian.

    ``ids`` are image ids, or an (N,) boolean mask over the images; None or empty clears the highlight.
    """
    if ids is None:
        return b""
    array = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids))
    if array.dtype == bool:
        if array.shape != (n,):
            raise ValueError(f"a boolean mask to highlight has one value per image ({n}), got shape {array.shape}")
        array = np.flatnonzero(array)
    if array.size and (array.ndim != 1 or not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"highlight takes image ids (integers) or a boolean mask, got {array.dtype} of shape {array.shape}")
    bad = array[(array < 0) | (array >= n)] if array.size else array
    if bad.size:
        raise ValueError(f"no image {int(bad[0])}: ids are 0..{n - 1}")
    return np.unique(array).astype("<i4").tobytes()


def highlight_ids(data: bytes) -> np.ndarray:
    """(K,) int32 ids from the widget's bytes (ascending, each once)."""
    return np.frombuffer(bytes(data), dtype="<i4").astype(np.int32)
