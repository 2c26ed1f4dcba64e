"""embed_all: batches of a chunk, run at once when the extractor allows it, in their places."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from deepviz.pipeline.extract import embed_all


class Recording:
    """Features = the crop's first pixel; notes how many embed calls ran at the same moment."""

    name, dim, input_size = "rec", 3, 4

    def __init__(self, concurrent: int) -> None:
        self.concurrent_batches = concurrent
        self.running = 0
        self.most = 0
        self.calls = 0
        self.lock = threading.Lock()
        self.both = threading.Barrier(2, timeout=5) if concurrent > 1 else None

    def embed(self, crops: np.ndarray) -> np.ndarray:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            calls, self.calls = self.calls, self.calls + 1
        if self.both is not None and calls < 2:
            self.both.wait()  # the first two batches must be inside embed together
        with self.lock:
            self.running -= 1
        if crops[0, 0, 0, 0] == 99:
            raise ValueError("bad batch")
        return crops[:, 0, 0, :].astype(np.float32)


def _crops(k: int) -> list[np.ndarray]:
    return [np.full((4, 4, 3), i % 97, np.uint8) for i in range(k)]


@pytest.mark.parametrize("concurrent", [1, 2])
def test_every_row_lands_in_its_place(concurrent: int) -> None:
    model = Recording(concurrent)
    out = embed_all(model, _crops(70), batch_size=8)  # 9 batches, the last of 6
    np.testing.assert_array_equal(out[:, 0], np.arange(70) % 97)
    assert model.most == concurrent


def test_a_failing_batch_fails_the_chunk() -> None:
    crops = _crops(20)
    crops[12][:] = 99
    with pytest.raises(ValueError, match="bad batch"):
        embed_all(Recording(2), crops, batch_size=4)


def test_onnx_models_allow_one_batch_per_core_torch_one() -> None:
    from deepviz.features.mobilenet import MobileNetV2

    assert MobileNetV2.concurrent_batches.fget is not None  # type: ignore[attr-defined]
    onnx = object.__new__(MobileNetV2)
    onnx.backend, onnx._intra_threads = "onnx", 1
    torch = object.__new__(MobileNetV2)
    torch.backend, torch._intra_threads = "torch", 1
    assert onnx.concurrent_batches >= 1 and torch.concurrent_batches == 1
    onnx._intra_threads = None  # a session that already takes every core
    assert onnx.concurrent_batches == 1


def test_the_bundled_model_gives_the_same_features_one_batch_at_a_time_or_several() -> None:
    """Concurrent batches change where a batch runs, never its numbers (ONNX Runtime, the default model)."""
    from deepviz.features.registry import get_extractor

    model = get_extractor("mobilenet_v2")
    assert model.concurrent_batches >= 1  # type: ignore[attr-defined]
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (224, 224, 3), dtype=np.uint8) for _ in range(20)]
    serial = np.concatenate([model.embed(np.stack(crops[s : s + 8])) for s in range(0, 20, 8)])
    with_threads = embed_all(_Forced(model, 2), crops, batch_size=8)
    np.testing.assert_array_equal(with_threads, serial)


class _Forced:
    """An extractor with its concurrency set (so the test runs batches at once on any machine)."""

    def __init__(self, inner: object, concurrent: int) -> None:
        self.inner, self.concurrent_batches = inner, concurrent
        self.name, self.dim, self.input_size = inner.name, inner.dim, inner.input_size  # type: ignore[attr-defined]

    def embed(self, crops: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.inner.embed(crops)  # type: ignore[attr-defined]
        return out
