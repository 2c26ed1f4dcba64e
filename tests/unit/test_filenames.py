"""Stored file names: any bytes round-trip, the text is one printable line, and the spelling is canonical."""
from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepviz.filenames import canonical, escape, unescape
from deepviz.storage.writer import IMAGE_SCHEMA, read_images_table

# Bytes that exercise every branch: ASCII, "/", "\", "x" and hex digits (to forge escapes),
# control characters, pieces of multi-byte UTF-8 (valid and broken), U+202E's and U+2028's bytes.
_TRICKY = st.sampled_from(b"ax0f/\\\n\t\r\x1b\x7f\xc2\x85\xc3\xa9\xe2\x80\xae\xa8\xed\xa0\xff")
NAMES = st.lists(_TRICKY, max_size=12).map(bytes)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (b"cats/001.jpg", "cats/001.jpg"),
        ("café/ü.png".encode(), "café/ü.png"),  # valid UTF-8 is itself
        (b"caf\xe9.png", "caf\\xe9.png"),  # Latin-1, not UTF-8
        (b"new\nline.png", "new\\x0aline.png"),
        (b"tab\there.png", "tab\\x09here.png"),
        (b"back\\slash.png", "back\\\\slash.png"),
        (b"x\\x41.png", "x\\\\x41.png"),  # a name that looks like an escape stays distinct
        ("a\u202egnp.exe".encode(), "a\\xe2\\x80\\xaegnp.exe"),  # right-to-left override
        ("next\u0085line".encode(), "next\\xc2\\x85line"),  # C1 control
        (b"\xed\xa0\x80", "\\xed\\xa0\\x80"),  # an encoded surrogate is not UTF-8
    ],
)
def test_escape_spells_each_case_as_documented(raw: bytes, stored: str) -> None:
    assert escape(os.fsdecode(raw)) == stored
    assert os.fsencode(unescape(stored)) == raw


@given(NAMES)
def test_any_name_round_trips_through_its_stored_text(raw: bytes) -> None:
    stored = escape(os.fsdecode(raw))
    assert os.fsencode(unescape(stored)) == raw
    stored.encode("utf-8")  # storable: no surrogates left
    assert len(stored.splitlines()) <= 1  # one line, for every line splitter Python knows


@given(NAMES, NAMES)
def test_distinct_names_have_distinct_stored_texts(a: bytes, b: bytes) -> None:
    if a != b:
        assert escape(os.fsdecode(a)) != escape(os.fsdecode(b))


@given(NAMES)
def test_canonical_leaves_stored_text_alone(raw: bytes) -> None:
    stored = escape(os.fsdecode(raw))
    assert canonical(stored) == stored


def test_paths_stored_before_escaping_still_open_and_are_respelled() -> None:
    # A build before escaping stored a backslash or a newline raw.
    assert unescape("back\\slash.png") == "back\\slash.png"
    assert canonical("back\\slash.png") == "back\\\\slash.png"
    assert canonical("new\nline.png") == "new\\x0aline.png"
    assert canonical("caf\\xE9.png") == "caf\\xe9.png"  # one spelling of each byte


def test_an_old_image_table_is_read_in_todays_spelling(tmp_path: Path) -> None:
    """An incremental build compares scanned paths with the table's: an image stored raw
    before escaping must be recognised, not added a second time."""
    old = ["back\\slash.png", "new\nline.png", "plain.png"]
    table = pa.table(
        {"id": [0, 1, 2], "path": old, "label": [None] * 3, "width": [1] * 3, "height": [1] * 3}, schema=IMAGE_SCHEMA
    )
    pq.write_table(table, tmp_path / "images.parquet")
    read = read_images_table(tmp_path, "images.parquet", 3)
    assert read.column("path").to_pylist() == ["back\\\\slash.png", "new\\x0aline.png", "plain.png"]
    assert read.column("id").to_pylist() == [0, 1, 2]


def test_a_reject_reason_quoting_a_raw_name_is_storable(tmp_path: Path) -> None:
    """An OSError's message quotes the file name raw; the rejects table must still take it."""
    import numpy as np

    from deepviz.storage.chunks import Chunk
    from deepviz.storage.writer import summarize_chunks, write_rejects

    raw = os.fsdecode(b"/images/caf\xe9.jpg")
    chunk = Chunk(
        paths=np.array(["caf\\xe9.jpg"]), ok=np.array([False]), reasons=np.array([f"cannot decode: [Errno 13] {raw!s}"]),
        width=np.zeros(1, np.int32), height=np.zeros(1, np.int32), features={}, thumbs={}, colors=np.zeros((0, 3), np.uint8),
    )
    summary = summarize_chunks([chunk], [("loop.png", "symbolic link loop")])
    assert summary.rejects == [("loop.png", "symbolic link loop"), ("caf\\xe9.jpg", "cannot decode: [Errno 13] /images/caf\\xe9.jpg")]
    stored = pq.read_table(tmp_path / write_rejects(tmp_path, summary.rejects))
    assert stored.column("path").to_pylist() == ["loop.png", "caf\\xe9.jpg"]
