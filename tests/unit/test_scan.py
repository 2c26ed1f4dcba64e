"""Scanning: recursion, recognition by content, folder and CSV labels, pruned folders."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from deepviz.images.scan import label_from_folder, looks_like_image, read_label_csv, scan


def _img(path: Path, fmt: str = "PNG") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4)).save(path, format=fmt)


def test_scan_finds_images_by_content_and_ignores_other_files(tmp_path: Path) -> None:
    _img(tmp_path / "cats" / "a.png")
    _img(tmp_path / "cats" / "deep" / "b.jpg", "JPEG")
    _img(tmp_path / "dogs" / "no_extension", "JPEG")  # an image without an image extension
    _img(tmp_path / "dogs" / "webp_image", "WEBP")
    (tmp_path / "dogs" / "readme.txt").write_text("not an image")
    (tmp_path / "dogs" / "data.bin").write_bytes(bytes(range(64)))
    _img(tmp_path / ".hidden" / "c.png")
    result = scan(tmp_path)
    assert result.paths == ["cats/a.png", "cats/deep/b.jpg", "dogs/no_extension", "dogs/webp_image"]
    assert result.labels == ["cats", "cats/deep", "dogs", "dogs"]


def test_label_depth_and_root_images() -> None:
    assert label_from_folder("a/b/c/x.png") == "a/b/c"
    assert label_from_folder("a/b/c/x.png", depth=1) == "a"
    assert label_from_folder("x.png") is None


def test_csv_labels_override_folders(tmp_path: Path) -> None:
    _img(tmp_path / "imgs" / "cats" / "a.png")
    _img(tmp_path / "imgs" / "cats" / "b.png")
    csv = tmp_path / "labels.csv"
    csv.write_text("path,label\n./cats/a.png,lion\n")
    result = scan(tmp_path / "imgs", labels_csv=csv)
    assert result.labels == ["lion", "cats"]


def test_bad_csv_line_says_what_is_expected(tmp_path: Path) -> None:
    csv = tmp_path / "labels.csv"
    csv.write_text("a.png,cat\nb.png\n")
    with pytest.raises(ValueError, match="path,label"):
        read_label_csv(csv)


def test_output_folder_inside_images_is_skipped(tmp_path: Path) -> None:
    _img(tmp_path / "a.png")
    _img(tmp_path / "proj" / "thumbs" / "x.png")
    assert scan(tmp_path, skip=(tmp_path / "proj",)).paths == ["a.png"]


def test_missing_folder_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="folder"):
        scan(tmp_path / "nope")


def test_looks_like_image_rejects_text(tmp_path: Path) -> None:
    (tmp_path / "t").write_text("GIF? no")
    assert not looks_like_image(tmp_path / "t")
