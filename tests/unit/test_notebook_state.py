"""The page's URL hash as Python reads and writes it: the same form as web/src/queryList.ts."""
from __future__ import annotations

import pytest

from deepviz.notebook.state import PageQuery, add_query, parse_queries, set_window, with_queries


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
