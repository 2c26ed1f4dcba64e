"""Memory per image is bounded: big images are reduced right after decoding or rejected with the option
that raises the budget, ordinary images decode exactly as before, and uploads are decoded one at a time."""
from __future__ import annotations

import io
import re
import struct
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageOps

import deepviz.images.decode as decode
import deepviz.server.uploads as uploads
from bench.bench_decode_memory import write_bomb
from deepviz.images.decode import DecodeLimits, ImageRejected, center_square_box, decode_crop, to_rgb
from deepviz.pipeline import extract
from deepviz.server.app import create_app
from deepviz.settings import ServeSettings
from tests.conftest import ColourExtractor


def spy_to_rgb(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The sizes of the images ``decode_crop`` converts to RGB (its one full-size step on the exact path)."""
    sizes: list[tuple[int, int]] = []

    def spy(img: Image.Image) -> Image.Image:
        sizes.append(img.size)
        return to_rgb(img)

    monkeypatch.setattr(decode, "to_rgb", spy)
    return sizes


def test_the_bench_bomb_is_a_sixteen_bit_rgba_png_far_smaller_than_its_pixels(tmp_path: Path) -> None:
    write_bomb(tmp_path / "bomb.png", 1000)
    with Image.open(tmp_path / "bomb.png") as img:
        assert img.size == (1000, 1000) and img.mode == "RGBA"  # Pillow reads 16-bit RGBA into 8 bits
        header = (tmp_path / "bomb.png").read_bytes()[16:29]
        assert struct.unpack(">IIBB", header[:10]) == (1000, 1000, 16, 6)
    assert (tmp_path / "bomb.png").stat().st_size < 1000 * 1000 * 8 / 500


def test_a_bomb_over_the_budget_is_reduced_before_any_full_size_conversion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_bomb(tmp_path / "bomb.png", 1200)  # exact path: 1200² × 16 B = 22 MB; reduced: 1200² × 4 B = 5.5 MB
    exact = decode_crop(tmp_path / "bomb.png", 64, limits=DecodeLimits(max_decode_mb=None)).crop
    sizes = spy_to_rgb(monkeypatch)
    reduced = decode_crop(tmp_path / "bomb.png", 64, limits=DecodeLimits(max_decode_mb=16))
    assert (reduced.width, reduced.height) == (1200, 1200)
    assert max(max(s) for s in sizes) <= 6 * 64  # only the reduced square is converted, never 1200 px
    assert np.abs(reduced.crop.astype(int) - exact.astype(int)).max() <= 3


def test_a_bomb_whose_decoded_pixels_are_over_the_budget_is_rejected_before_decoding(tmp_path: Path) -> None:
    # A valid header (2100 x 2100 RGBA, 16.8 MB decoded) over data that is not deflate at all:
    # a reject that speaks of memory proves no pixel was decoded.
    ihdr = struct.pack(">IIBBBBB", 2100, 2100, 16, 6, 0, 0, 0)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    (tmp_path / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"junk") + chunk(b"IEND", b""))
    with pytest.raises(ImageRejected, match=r"2100x2100 RGBA needs 17 MB .* 16 MB limit .* raise it: deepviz build --max-decode-mb 18$"):
        decode_crop(tmp_path / "bomb.png", 64, limits=DecodeLimits(max_decode_mb=16))
    with pytest.raises(ImageRejected, match="cannot decode"):  # the same file within the budget: decoding fails
        decode_crop(tmp_path / "bomb.png", 64, limits=DecodeLimits(max_decode_mb=64))


def test_the_pixel_reject_quotes_the_limit_in_force_not_pillows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Over twice Pillow's global limit, so Pillow refuses before our check: the reason must still
    # quote our limit, the one the user can raise.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50 * 50)
    Image.new("RGB", (200, 200)).save(tmp_path / "big.png")
    with pytest.raises(ImageRejected) as rejected:
        decode_crop(tmp_path / "big.png", 8, max_pixels=60 * 60)
    assert "40,000 pixels" in rejected.value.reason and "3,600-pixel limit" in rejected.value.reason
    assert "5000" not in rejected.value.reason and "--max-pixels" in rejected.value.reason


def reference_crop(path: Path, size: int) -> np.ndarray:
    """The decode as it was before memory was bounded: exif_transpose, to_rgb and one bicubic resize."""
    with Image.open(path) as img:
        img.draft("RGB", (size, size))
        rgb = to_rgb(ImageOps.exif_transpose(img))
        return np.asarray(rgb.resize((size, size), Image.Resampling.BICUBIC, box=center_square_box(*rgb.size)))


def ordinary_images(folder: Path) -> list[Path]:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (90, 130, 4), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    images = {
        "photo.jpg": Image.fromarray(pixels[..., :3]),
        "rgba.png": Image.fromarray(pixels, "RGBA"),
        "pal.png": Image.fromarray(pixels[..., :3]).quantize(32),
        "grey.png": Image.fromarray(pixels[..., 0]),
        "g16.png": Image.fromarray(pixels[..., 0].astype(np.uint16) * 251),
        "float.tif": Image.fromarray(pixels[..., 0].astype(np.float32) / 7),
    }
    for name, img in images.items():
        img.save(folder / name, **({"exif": exif} if name.endswith(".jpg") else {}))
    Image.fromarray(pixels[..., :3]).quantize(32).save(folder / "pal-clear.png", transparency=2)
    return sorted(folder.iterdir())


@pytest.mark.parametrize("size", [16, 64, 224])
def test_ordinary_images_decode_exactly_as_before(tmp_path: Path, size: int) -> None:
    for path in ordinary_images(tmp_path):
        assert np.array_equal(decode_crop(path, size).crop, reference_crop(path, size)), path.name


def test_default_workers_are_cpus_capped_by_memory_per_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(extract, "available_memory", lambda: 3 << 30)
    assert extract.default_workers(512) == 6
    assert extract.default_workers(256) == 8
    assert extract.default_workers(8192) == 1  # never none
    assert extract.default_workers(None) == 8
    monkeypatch.setattr(extract, "available_memory", lambda: None)
    assert extract.default_workers(512) == 8


def test_available_memory_is_read_on_linux() -> None:
    found = extract.available_memory()
    assert found is None or found > 0


def png_bytes(size: tuple[int, int], mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, (200, 30, 30, 255)[: len(mode)]).save(buf, "PNG")
    return buf.getvalue()


def test_uploads_are_decoded_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    inside, most = 0, 0
    count = threading.Lock()
    real = uploads.decode_crop

    def slow_decode(*args: object, **kwargs: object) -> decode.Decoded:
        nonlocal inside, most
        with count:
            inside += 1
            most = max(most, inside)
        time.sleep(0.05)  # room for another thread to enter, were there no lock
        with count:
            inside -= 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(uploads, "decode_crop", slow_decode)
    data = png_bytes((40, 30))
    threads = [threading.Thread(target=uploads.embed_upload, args=(data, ColourExtractor(), (32,))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1


def test_an_upload_that_cannot_get_the_decode_slot_is_busy_503(tiny_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(uploads.UploadBusy), uploads._DECODING:
        uploads.embed_upload(png_bytes((40, 30)), ColourExtractor(), (32,), wait_s=0)
    monkeypatch.setattr(uploads, "UPLOAD_WAIT_S", 0.0)
    with TestClient(create_app(tiny_project, embedder=ColourExtractor()), base_url="http://localhost") as client:
        with uploads._DECODING:
            r = client.post("/api/queries/upload", files={"file": ("q.png", png_bytes((40, 30)), "image/png")})
        assert r.status_code == 503 and "retry" in r.json()["detail"] and r.headers["Retry-After"] == "5"
        r = client.post("/api/queries/upload", files={"file": ("q.png", png_bytes((40, 30)), "image/png")})
        assert r.status_code == 200


def test_an_upload_over_its_pixel_or_memory_budget_is_413_with_the_limit_and_the_flag(tiny_project: Path) -> None:
    """Not 415 (the image is fine): the limit in force and a `deepviz serve` flag with a value that
    lets the same upload through."""
    settings = ServeSettings(upload_max_decode_mb=16, upload_max_pixels=5_000_000)
    big = png_bytes((2100, 2100), "RGBA")  # 16.8 MB decoded
    wide = png_bytes((3000, 2000), "L")
    with TestClient(create_app(tiny_project, settings, embedder=ColourExtractor()), base_url="http://localhost") as client:
        r = client.post("/api/queries/upload", files={"file": ("big.png", big, "image/png")})
        detail = r.json()["detail"]
        assert r.status_code == 413 and detail.startswith("big.png is over this server's upload limit") and "16 MB limit" in detail
        memory = int(re.search(r"deepviz serve --upload-max-decode-mb (\d+)$", detail).group(1))  # type: ignore[union-attr]
        r = client.post("/api/queries/upload", files={"file": ("wide.png", wide, "image/png")})
        detail = r.json()["detail"]
        assert r.status_code == 413 and "5,000,000-pixel limit" in detail
        pixels = int(re.search(r"deepviz serve --upload-max-pixels (\d+)$", detail).group(1))  # type: ignore[union-attr]
    assert pixels >= 6_000_000 and memory >= 17
    # The suggested values are enough: the same uploads go through.
    raised = ServeSettings(upload_max_decode_mb=memory, upload_max_pixels=pixels)
    with TestClient(create_app(tiny_project, raised, embedder=ColourExtractor()), base_url="http://localhost") as client:
        for name, data in (("big.png", big), ("wide.png", wide)):
            r = client.post("/api/queries/upload", files={"file": (name, data, "image/png")})
            assert r.status_code == 200, r.text


def test_the_reduced_path_applies_exif_orientation_like_the_exact_one(tmp_path: Path) -> None:
    # Stored 600x300 with the top half red; orientation 6 shows it 300x600, red on the right.
    arr = np.zeros((300, 600, 3), np.uint8)
    arr[:150] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(arr).save(tmp_path / "rot.png", exif=exif)
    exact = decode_crop(tmp_path / "rot.png", 30, limits=DecodeLimits(max_decode_mb=None))
    reduced = decode_crop(tmp_path / "rot.png", 30, limits=DecodeLimits(max_decode_mb=1))  # 600x300 RGB: 1.4 MB exact
    assert (reduced.width, reduced.height) == (exact.width, exact.height) == (300, 600)
    assert reduced.crop[15, 25, 0] > 200 and reduced.crop[15, 4, 0] < 60
    assert np.abs(reduced.crop.astype(int) - exact.crop.astype(int)).mean() < 4
