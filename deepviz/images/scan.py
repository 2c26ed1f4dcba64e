"""Find the images under a folder, recognised by content, with labels from folders or a CSV."""
from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deepviz.errors import DeepvizError, UsageError


class NotAFolder(DeepvizError, NotADirectoryError):
    """The image folder given is not a folder."""


# Leading bytes of the formats Pillow decodes that photos and datasets actually use.
_MAGIC: tuple[bytes, ...] = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"BM",  # BMP
    b"II*\x00",  # TIFF little-endian
    b"MM\x00*",  # TIFF big-endian
    b"\x00\x00\x00\x0cjP  ",  # JPEG 2000
)
_IMAGE_SUFFIXES = frozenset(
    ".jpg .jpeg .jpe .jfif .png .gif .bmp .dib .tif .tiff .webp .ppm .pgm .pbm .pnm .tga .jp2 .j2k .ico".split()
)


@dataclass(frozen=True)
class ScanResult:
    """Images found under ``root``.

    ``paths``   relative POSIX paths, sorted, one per image file (the project's row order
                for new images, and the row order of a bare precomputed feature matrix).
    ``labels``  one label per path (or None): the folder it sits in, or the CSV's value.
    """

    root: Path
    paths: list[str]
    labels: list[str | None]


def looks_like_image(path: str | os.PathLike[str]) -> bool:
    """True when the file's first bytes are those of an image format (extension ignored)."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return head.startswith(_MAGIC)


def _walk(root: Path, skip: frozenset[Path]) -> Iterator[str]:
    """Relative POSIX paths of candidate image files; hidden entries and ``skip`` folders pruned."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # an unreadable folder holds nothing we can use
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                if Path(entry.path).resolve() not in skip:
                    stack.append(Path(entry.path))
            elif entry.is_file():
                suffix = os.path.splitext(entry.name)[1].lower()
                # A claimed image is a candidate (it is rejected later if it lies);
                # anything else must prove it is an image by its bytes.
                if suffix in _IMAGE_SUFFIXES or looks_like_image(entry.path):
                    yield Path(entry.path).relative_to(root).as_posix()


def label_from_folder(relpath: str, depth: int | None = None) -> str | None:
    """The folder an image sits in, as a label: ``a/b/c.jpg`` -> ``a/b`` (``depth=1`` -> ``a``)."""
    parts = relpath.split("/")[:-1]
    if not parts:
        return None
    if depth is not None:
        parts = parts[:depth]
    return "/".join(parts)


def read_label_csv(csv_path: str | os.PathLike[str]) -> dict[str, str]:
    """A ``path,label`` CSV (header optional) -> {relative POSIX path: label}."""
    labels: dict[str, str] = {}
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        for lineno, row in enumerate(csv.reader(f), start=1):
            if not row or (lineno == 1 and [c.strip().lower() for c in row[:2]] == ["path", "label"]):
                continue
            if len(row) < 2:
                raise UsageError(
                    f"{csv_path}:{lineno}: expected 'path,label', got {row!r}; "
                    "each line needs an image path relative to the image folder and a label"
                )
            labels[normalize_relpath(row[0])] = row[1].strip()
    return labels


def normalize_relpath(path: str) -> str:
    """User-written relative path -> the POSIX form stored in projects ('./a\\b.jpg' -> 'a/b.jpg')."""
    p = path.strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


def scan(
    root: str | os.PathLike[str],
    *,
    label_depth: int | None = None,
    labels_csv: str | os.PathLike[str] | None = None,
    skip: tuple[str | os.PathLike[str], ...] = (),
) -> ScanResult:
    """Walk ``root`` recursively and return every candidate image, sorted, with its label.

    Non-image files are ignored quietly. ``labels_csv`` overrides folder labels for the
    paths it names. ``skip`` folders (e.g. a project written inside the image folder) are
    not entered.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotAFolder(f"{root} is not a folder; pass the folder that holds your images")
    skip_set = frozenset(Path(s).resolve() for s in skip)
    paths = sorted(_walk(root, skip_set))
    labels = [label_from_folder(p, label_depth) for p in paths]
    if labels_csv is not None:
        override = read_label_csv(labels_csv)
        labels = [override.get(p, lab) for p, lab in zip(paths, labels)]
    return ScanResult(root=root, paths=paths, labels=labels)
