"""The page's URL hash as Python reads and writes it (the same form as web/src/queryList.ts), and the highlighted ids."""
from __future__ import annotations

import numpy as np
import pytest

from deepviz.notebook.state import PageQuery, add_query, highlight_bytes, highlight_ids, parse_queries, set_window, with_queries


def test_the_page_form_is_read_entry_by_entry() -> None:
    queries, active = parse_queries("#q=i12:0:0-20,uu1abc:1:-,bad:2:-,i12:3:-&a=1&s=64")
    assert queries == [PageQuery("i12", 0, (0, 20)), PageQuery("uu1abc", 1, None)]  # a malformed and a repeated one dropped
    assert active == 1 and queries[0].image_id == 12 and queries[1].image_id is None
    assert parse_queries("") == ([], -1)
    assert parse_queries("#q=i1:0:5-5&a=9")[0] == [PageQuery("i1", 0, None)]  # an empty window is no window
    assert parse_queries("#q=i1:0:-,i2:1:-&a=9")[1] == 1  # an active index out of range: the last


def test_python_edits_keep_the_page_settings_and_take_the_first_free_colour() -> None:
    start = "#q=i3:0:0-8,i9:2:-&a=0&s=64&l=1"
    added = add_query(start, "uKEY")
    assert added == "#q=i3:0:0-8,i9:2:-,uKEY:1:-&a=2&s=64&l=1"
    assert add_query(added, "i9") == "#q=i3:0:0-8,i9:2:-,uKEY:1:-&a=1&s=64&l=1"  # already there: made active
    assert set_window(added, 1, 4, 10) == "#q=i3:0:0-8,i9:2:4-10,uKEY:1:-&a=1&s=64&l=1"
    assert add_query("", "i0") == "#q=i0:0:-&a=0"
    assert with_queries(start, [], -1) == "#q=&a=-1&s=64&l=1"


@pytest.mark.parametrize(("index", "lo", "hi", "error"), [(2, 0, 5, IndexError), (0, 5, 5, ValueError), (0, -1, 3, ValueError)])
def test_a_window_that_cannot_be_is_refused(index: int, lo: int, hi: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        set_window("#q=i1:0:-,i2:1:-&a=0", index, lo, hi)


def test_a_highlight_is_sorted_unique_int32_bytes_and_reads_back() -> None:
    data = highlight_bytes([7, 2, 7, np.int64(0)], n=10)
    assert data == np.array([0, 2, 7], "<i4").tobytes()
    assert highlight_ids(data).tolist() == [0, 2, 7] and highlight_ids(data).dtype == np.int32
    mask = np.zeros(10, bool)
    mask[[1, 9]] = True
    assert highlight_ids(highlight_bytes(mask, n=10)).tolist() == [1, 9]
    assert highlight_bytes(None, n=10) == highlight_bytes([], n=10) == b""
    assert highlight_ids(b"").tolist() == []


@pytest.mark.parametrize(("ids", "message"), [
    ([3, 10], "no image 10: ids are 0..9"),
    ([-1], "no image -1"),
    (np.zeros(4, bool), r"one value per image \(10\)"),
    ([1.5], "image ids \\(integers\\)"),
    (np.zeros((2, 2), int), "image ids"),
])
def test_a_highlight_that_names_no_image_is_refused(ids: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        highlight_bytes(ids, n=10)  # type: ignore[arg-type]
