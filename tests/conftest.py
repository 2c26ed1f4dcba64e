"""Shared fixtures: a fake extractor and generated image folders (no network, no model)."""
from __future__ import annotations

import io
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image


class ColourExtractor:
    """A deterministic stand-in for a CNN: features are coarse colour statistics of the crop.

    Images of similar colour get similar features, so rankings and layouts are meaningful.
    """

    name = "colour"
    dim = 12
    input_size = 16

    def __init__(self) -> None:
        self.calls = 0
        self.images_seen = 0

    def embed(self, crops: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.images_seen += len(crops)
        x = crops.astype(np.float32) / 255.0
        quads = [x[:, :8, :8], x[:, :8, 8:], x[:, 8:, :8], x[:, 8:, 8:]]
        return np.concatenate([q.mean(axis=(1, 2)) for q in quads], axis=1) + 0.01


@pytest.fixture
def colour_extractor() -> ColourExtractor:
    return ColourExtractor()


def write_image(
    path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (40, 30), fmt: str | None = None, mode: str = "RGB"
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # crc32, not hash(): str hashes change with every process, and test data must not.
    rng = np.random.default_rng(zlib.crc32(path.name.encode()))
    arr = np.clip(np.array(colour)[None, None, :] + rng.integers(-20, 20, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    Image.fromarray(arr).convert(mode).save(path, format=fmt)


def make_folder(root: Path, per_class: int = 6, with_broken: bool = True) -> Path:
    """root/{red,green,blue}/img_k.{png,jpg} plus, optionally, files that must be rejected or ignored."""
    colours = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}
    for label, colour in colours.items():
        for k in range(per_class):
            ext = "png" if k % 2 else "jpg"
            write_image(root / label / f"img_{k}.{ext}", colour, size=(40 + k, 30 + 2 * k))
    if with_broken:
        (root / "red" / "truncated.jpg").write_bytes(_jpeg_bytes()[:200])
        (root / "green" / "not_really.png").write_text("this is text, not a PNG")
        (root / "notes.txt").write_text("ignored quietly")
        (root / "blue" / "sound.ogg").write_bytes(b"OggS\x00\x02" + bytes(100))
    return root


def _jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "images")


@pytest.fixture(scope="session")
def hf_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny random DINOv2, CLIP and SigLIP saved as Hub downloads are (tests/hf_tiny.py): family -> folder."""
    from tests.hf_tiny import SAVERS

    root = tmp_path_factory.mktemp("hf")
    return {family: save(root / family) for family, save in SAVERS.items()}


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built project of 3 colour classes × 8 generated images (+2 rejects), made with the fake
    ``ColourExtractor`` (feature set name 'colour'). Session-scoped: treat it as read-only."""
    import deepviz

    base = tmp_path_factory.mktemp("tiny")
    images = make_folder(base / "images", per_class=8)
    out = base / "tiny.deepviz"
    deepviz.build(images, out, models=[ColourExtractor()], progress=False)
    return out


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """A real uvicorn serving ``app`` on a free loopback port, for browsers and load tests; yields its URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
