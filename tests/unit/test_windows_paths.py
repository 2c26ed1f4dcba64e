r"""Paths from Windows and macOS, tried here without those machines.

A project stores each image path POSIX-style ("/" between folders), relative to the image root,
so a project built on one OS is read on another. Windows inputs are spelled with
``PureWindowsPath`` (backslashes, drive letters); names legal on Linux and macOS but forbidden
on Windows (``:``, ``?``, ``*``, ``"``) must survive as text. The last test builds a small project
and checks its files hold nothing that depends on the OS that wrote them.
"""
from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pytest

import deepviz
from deepviz.filenames import escape, unescape
from deepviz.images.scan import label_from_folder, normalize_relpath, read_label_csv, scan
from tests.conftest import ColourExtractor, make_folder, write_image

WINDOWS_ROOT = PureWindowsPath(r"C:\Users\Ada\Pictures\dataset")


@pytest.mark.parametrize(("written", "stored"), [
    (str(PureWindowsPath(r"cats\tabby\a.jpg")), "cats/tabby/a.jpg"),
    (r".\cats\a.jpg", "cats/a.jpg"),
    (str(PureWindowsPath("dogs", "b.png")), "dogs/b.png"),
    (str(PurePosixPath("dogs", "b.png")), "dogs/b.png"),
])
def test_a_windows_relative_path_is_stored_posix(written: str, stored: str) -> None:
    assert normalize_relpath(written) == stored


def test_a_path_under_a_windows_root_gets_the_same_stored_path_and_label_as_on_posix() -> None:
    windows = (WINDOWS_ROOT / "animals" / "birds" / "owl.png").relative_to(WINDOWS_ROOT)
    posix = PurePosixPath("/Users/ada/dataset/animals/birds/owl.png").relative_to("/Users/ada/dataset")
    assert normalize_relpath(str(windows)) == normalize_relpath(str(posix)) == "animals/birds/owl.png"
    assert label_from_folder(normalize_relpath(str(windows))) == "animals/birds"
    assert label_from_folder(normalize_relpath(str(windows)), depth=1) == "animals"


def test_a_labels_csv_written_on_windows_matches_the_scanned_paths(tmp_path: Path) -> None:
    write_image(tmp_path / "images" / "cats" / "a.png", (200, 10, 10))
    write_image(tmp_path / "images" / "dogs" / "b.png", (10, 200, 10))
    # Excel on Windows: CRLF line ends, a byte-order mark, backslashes.
    (tmp_path / "labels.csv").write_bytes("\ufeffpath,label\r\ncats\\a.png,tabby\r\n.\\dogs\\b.png,terrier\r\n".encode())
    found = scan(tmp_path / "images", labels_csv=tmp_path / "labels.csv")
    assert dict(zip(found.paths, found.labels)) == {"cats/a.png": "tabby", "dogs/b.png": "terrier"}
    assert read_label_csv(tmp_path / "labels.csv")["cats/a.png"] == "tabby"


def test_a_windows_image_root_round_trips_through_the_manifest_text() -> None:
    stored = escape(str(WINDOWS_ROOT))
    assert stored == r"C:\\Users\\Ada\\Pictures\\dataset"  # each backslash escaped: one printable, unambiguous line
    assert PureWindowsPath(unescape(stored)) == WINDOWS_ROOT
    assert json.loads(json.dumps(stored)) == stored


@pytest.mark.parametrize("folder", ['what?', 'a:b', 'star*', 'quote"d', "CON", "trailing."])
def test_label_folders_forbidden_on_windows_are_kept_as_text(tmp_path: Path, folder: str) -> None:
    """Built on Linux or macOS, such a label is a string in the project, so the project opens on Windows."""
    write_image(tmp_path / folder / "x.png", (1, 2, 3))
    found = scan(tmp_path)
    assert found.paths == [f"{folder}/x.png"] and found.labels == [folder]


# Characters Windows forbids in a file name, and its reserved device names.
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"\\|?*\x00-\x1f]')
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM\d|LPT\d)(\..*)?", re.IGNORECASE)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("os")
    images = make_folder(root / "images", per_class=4, with_broken=False)
    write_image(images / "Smileys & Emotion" / "été.png", (250, 250, 20))
    out = root / "images.deepviz"
    deepviz.build(images, out, models=[ColourExtractor()], progress=False)
    return out


def test_the_project_stores_posix_relative_image_paths(project: Path) -> None:
    paths = [str(p) for p in deepviz.open_project(project).images["path"]]
    assert "Smileys & Emotion/été.png" in paths and "red/img_0.jpg" in paths
    for path in paths:
        assert "\\" not in path and not path.startswith("/") and not re.match(r"[A-Za-z]:", path), path


def test_the_project_files_are_portable_names(project: Path) -> None:
    names = [p.relative_to(project) for p in project.rglob("*")]
    for name in names:
        for part in name.parts:
            assert not _WINDOWS_FORBIDDEN.search(part) and not _RESERVED.fullmatch(part), name
            assert not part.endswith((" ", ".")), name
    lowered = [n.as_posix().lower() for n in names]
    assert len(set(lowered)) == len(lowered), "names that differ only in case collide on Windows and macOS"


def test_the_project_files_hold_no_os_specific_bytes(project: Path) -> None:
    for path in project.rglob("*"):
        if path.suffix == ".json":
            text = path.read_bytes().decode("utf-8")  # UTF-8 whatever the OS's locale
            assert "\r" not in text, f"{path.name} has Windows line ends"
        elif path.suffix == ".npy":
            # Byte order written into the header, little-endian (or none for bytes), never "native".
            with open(path, "rb") as f:
                major, _ = np.lib.format.read_magic(f)
                read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                dtype = read_header(f)[2]
            assert dtype.str[0] in "<|", (path.name, dtype.str)
