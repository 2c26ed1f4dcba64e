"""Scanning: recursion, recognition by content, folder and CSV labels, pruned folders; bad names, links and folders."""
from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from deepviz.errors import UsageError
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


# ----------------------------------------------------------------------------- bad names, links, folders
# Linux only: names are bytes there (os.fsencode / bytes paths make the ones that are not UTF-8).
linux_only = pytest.mark.skipif(
    sys.platform != "linux", reason="Linux file names are any bytes (macOS and Windows refuse some); symlinks"
)


def _img_bytes(root: Path, name: bytes) -> None:
    path = os.path.join(os.fsencode(root), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("RGB", (4, 4)).save(os.fsdecode(path), format="PNG")


@linux_only
def test_bad_names_are_found_and_stored_escaped(tmp_path: Path) -> None:
    for name in (b"caf\xe9.png", b"new\nline.png", b"tab\there.png", b"back\\slash.png", b"dir\xff/in.png"):
        _img_bytes(tmp_path, name)
    result = scan(tmp_path)
    assert result.paths == ["back\\\\slash.png", "caf\\xe9.png", "dir\\xff/in.png", "new\\x0aline.png", "tab\\x09here.png"]
    assert result.labels == [None, None, "dir\\xff", None, None]
    assert result.rejects == []


def test_labels_csv_names_paths_as_stored_or_with_windows_separators(tmp_path: Path) -> None:
    _img(tmp_path / "imgs" / "a" / "x.png")
    _img(tmp_path / "imgs" / "back\\slash.png")
    labels = tmp_path / "labels.csv"
    labels.write_text("path,label\nback\\\\slash.png,escaped\na\\x.png,windows\n")
    assert scan(tmp_path / "imgs", labels_csv=labels).labels == ["windows", "escaped"]


@linux_only
def test_a_symlink_loop_is_a_reject_with_its_reason(tmp_path: Path) -> None:
    _img(tmp_path / "a.png")
    os.symlink("self.png", tmp_path / "self.png")  # a link to itself
    os.symlink("pong", tmp_path / "ping")  # two links to each other
    os.symlink("ping", tmp_path / "pong")
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "up")  # a folder link to the folder that holds it
    result = scan(tmp_path)
    assert result.paths == ["a.png"]
    reasons = dict(result.rejects)
    assert sorted(reasons) == ["ping", "pong", "self.png", "sub/up"]
    assert all("symbolic link loop" in r for r in reasons.values())


@linux_only
def test_a_symlink_out_of_the_folder_is_followed_only_when_asked(tmp_path: Path) -> None:
    images, outside = tmp_path / "images", tmp_path / "outside"
    _img(images / "a.png")
    _img(outside / "secret.png")
    _img(outside / "more" / "b.png")
    os.symlink(outside / "secret.png", images / "link.png")
    os.symlink(outside / "more", images / "folder")
    os.symlink("a.png", images / "inside.png")  # inside the folder: always followed
    result = scan(images)
    assert result.paths == ["a.png", "inside.png"]
    reasons = dict(result.rejects)
    assert sorted(reasons) == ["folder", "link.png"]
    assert "outside the image folder" in reasons["link.png"] and "--follow-symlinks" in reasons["link.png"]
    followed = scan(images, follow_symlinks=True)
    assert followed.paths == ["a.png", "folder/b.png", "inside.png", "link.png"]
    assert followed.rejects == []


@linux_only
def test_a_dangling_link_is_a_reject_only_when_it_claims_to_be_an_image(tmp_path: Path) -> None:
    os.symlink("gone.jpg", tmp_path / "photo.jpg")
    os.symlink("gone.txt", tmp_path / "notes")
    assert dict(scan(tmp_path).rejects) == {"photo.jpg": "symbolic link cannot be followed (No such file or directory)"}


@linux_only
@pytest.mark.skipif(sys.platform == "linux" and os.geteuid() == 0, reason="root reads a chmod 000 folder anyway; "
                    "test_an_unreadable_folder_is_a_reject_simulated covers the handling")
def test_an_unreadable_folder_is_a_reject(tmp_path: Path) -> None:
    _img(tmp_path / "a.png")
    _img(tmp_path / "locked" / "b.png")
    (tmp_path / "locked").chmod(0)
    try:
        result = scan(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert result.paths == ["a.png"]
    assert result.rejects == [("locked", "folder cannot be read (Permission denied); nothing in it was scanned")]


def test_an_unreadable_folder_is_a_reject_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _img(tmp_path / "a.png")
    _img(tmp_path / "locked" / "b.png")
    real_scandir = os.scandir

    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        if os.path.basename(str(path)) == "locked":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = scan(tmp_path)
    assert result.paths == ["a.png"]
    assert result.rejects == [("locked", "folder cannot be read (Permission denied); nothing in it was scanned")]


def test_an_unreadable_image_folder_is_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(UsageError, match="cannot read the image folder .*Permission denied"):
        scan(tmp_path)
