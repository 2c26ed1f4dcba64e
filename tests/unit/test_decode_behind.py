"""Decoding behind other work: threads of the lowest CPU priority until told otherwise, same chunks."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepviz.pipeline import extract
from deepviz.pipeline.extract import BEHIND_NICE, extract_chunks

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is Linux's")


def _thread_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _images(root: Path, n: int) -> list[str]:
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (20, 30, 3), np.uint8)).save(root / f"{i}.png")
    return [f"{i}.png" for i in range(n)]


@linux_only
def test_chunks_queued_before_the_event_decode_at_the_lowest_priority_then_at_the_callers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _images(tmp_path, 6)
    plain = list(extract_chunks(tmp_path, paths, [], thumb_sizes=(8,), chunk_size=2, workers=2))
    seen: dict[str, int] = {}
    real = extract.decode_one

    def recording(path: Path, *args: object) -> object:
        seen[Path(path).name] = _thread_nice()
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(extract, "decode_one", recording)
    behind = threading.Event()
    chunks = []
    for chunk in extract_chunks(tmp_path, paths, [], thumb_sizes=(8,), chunk_size=2, workers=2, behind=behind):
        chunks.append(chunk)
        behind.set()  # chunk 1 was queued before chunk 0 came out; chunk 2 after this
    caller = _thread_nice()
    assert caller != BEHIND_NICE
    assert [seen[p] for p in paths] == [BEHIND_NICE] * 4 + [caller] * 2
    assert _thread_nice() == caller  # only the pool's own threads were lowered
    for a, b in zip(chunks, plain, strict=True):
        assert list(a.paths) == list(b.paths) and list(a.ok) == list(b.ok)
        np.testing.assert_array_equal(a.colors, b.colors)
        for x, y in zip(a.thumbs[8], b.thumbs[8], strict=True):
            np.testing.assert_array_equal(x, y)


def test_without_an_event_nothing_is_lowered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _images(tmp_path, 3)
    lowered: list[bool] = []
    monkeypatch.setattr(extract, "lower_thread_priority", lambda: lowered.append(True) or True)
    assert sum(len(c.paths) for c in extract_chunks(tmp_path, paths, [], thumb_sizes=(8,), chunk_size=2)) == 3
    assert not lowered


@linux_only
def test_lowering_a_thread_leaves_the_others_alone() -> None:
    got: list[tuple[bool, int]] = []
    thread = threading.Thread(target=lambda: got.append((extract.lower_thread_priority(), _thread_nice())))
    thread.start()
    thread.join()
    assert got == [(True, BEHIND_NICE)] and _thread_nice() != BEHIND_NICE
