"""Decoding once: centre crop, EXIF orientation, odd modes, and rejects with reasons."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepviz.images.decode import ImageRejected, center_square_box, decode_crop, to_rgb


@pytest.mark.parametrize(
    ("w", "h", "box"),
    [(100, 60, (20, 0, 80, 60)), (60, 100, (0, 20, 60, 80)), (50, 50, (0, 0, 50, 50)), (7, 4, (1, 0, 5, 4))],
)
def test_center_square_box_is_centred_square_of_shortest_side(w: int, h: int, box: tuple[int, int, int, int]) -> None:
    assert center_square_box(w, h) == box


def test_crop_keeps_the_centre_and_drops_the_sides(tmp_path: Path) -> None:
    # A wide image: red left third, green centre, blue right third -> the crop is all green.
    arr = np.zeros((30, 90, 3), np.uint8)
    arr[:, :30] = (255, 0, 0)
    arr[:, 30:60] = (0, 255, 0)
    arr[:, 60:] = (0, 0, 255)
    Image.fromarray(arr).save(tmp_path / "wide.png")
    d = decode_crop(tmp_path / "wide.png", 16)
    assert d.crop.shape == (16, 16, 3) and d.crop.dtype == np.uint8
    assert (d.width, d.height) == (90, 30)
    assert np.abs(d.crop[2:-2, 2:-2].astype(int) - (0, 255, 0)).max() < 10


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # Stored 60x30 with the top half red; orientation 6 (rotate 90 cw on display) makes it 30x60,
    # red on the right.
    arr = np.zeros((30, 60, 3), np.uint8)
    arr[:15] = (255, 0, 0)
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6
    img.save(tmp_path / "rot.jpg", exif=exif, quality=95)
    d = decode_crop(tmp_path / "rot.jpg", 30)
    assert (d.width, d.height) == (30, 60)
    assert d.crop[15, 25, 0] > 200 and d.crop[15, 4, 0] < 60


def test_alpha_is_composited_on_white(tmp_path: Path) -> None:
    Image.new("RGBA", (20, 20), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    d = decode_crop(tmp_path / "clear.png", 8)
    assert (d.crop == 255).all()


def test_palette_with_transparency_becomes_white(tmp_path: Path) -> None:
    img = Image.new("P", (10, 10), 0)
    img.putpalette([0, 0, 0] * 256)
    img.save(tmp_path / "pal.png", transparency=0)
    assert (decode_crop(tmp_path / "pal.png", 8).crop == 255).all()


def test_sixteen_bit_grey_keeps_its_exposure(tmp_path: Path) -> None:
    arr = np.full((12, 12), 32768, np.uint16)  # half of full scale
    Image.fromarray(arr).save(tmp_path / "g16.png")
    crop = decode_crop(tmp_path / "g16.png", 8).crop
    assert crop.shape == (8, 8, 3)
    assert abs(int(crop.mean()) - 128) <= 2


def test_cmyk_becomes_rgb(tmp_path: Path) -> None:
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    crop = decode_crop(tmp_path / "cmyk.jpg", 8).crop
    assert crop[..., 0].mean() > 200 and crop[..., 1].mean() < 60


def test_greyscale_and_bilevel_modes_become_rgb() -> None:
    for mode in ("L", "1", "LA", "I", "F", "YCbCr"):
        assert to_rgb(Image.new(mode, (4, 4))).mode == "RGB"


def test_decompression_bomb_is_a_reject_not_a_crash(tmp_path: Path) -> None:
    Image.new("RGB", (200, 200)).save(tmp_path / "big.png")
    with pytest.raises(ImageRejected, match=r"over the 10,000-pixel limit .* raise it: deepviz build --max-pixels 40000$") as err:
        decode_crop(tmp_path / "big.png", 8, max_pixels=100 * 100)
    assert err.value.over_limit
    assert decode_crop(tmp_path / "big.png", 8, max_pixels=40000).crop.shape == (8, 8, 3)  # the suggested value is enough


def test_truncated_and_fake_files_are_rejected_with_reasons(tmp_path: Path) -> None:
    Image.new("RGB", (64, 64), (9, 9, 9)).save(tmp_path / "ok.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "ok.jpg").read_bytes()[:100])
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(ImageRejected, match="decode"):
        decode_crop(tmp_path / "cut.jpg", 8)
    with pytest.raises(ImageRejected, match="not a format"):
        decode_crop(tmp_path / "text.png", 8)


def test_a_raised_pixel_limit_lets_big_images_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deepviz.images.decode import pixel_limit

    # Pretend Pillow's own limit is tiny, so the image is over twice it (Pillow's hard refusal).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50 * 50)
    Image.new("RGB", (200, 200), (10, 200, 10)).save(tmp_path / "big.png")
    with pytest.raises(ImageRejected):
        decode_crop(tmp_path / "big.png", 8, max_pixels=300 * 300)
    with pixel_limit(300 * 300):
        crop = decode_crop(tmp_path / "big.png", 8, max_pixels=300 * 300).crop
    assert crop[..., 1].mean() > 150
    assert Image.MAX_IMAGE_PIXELS == 50 * 50
