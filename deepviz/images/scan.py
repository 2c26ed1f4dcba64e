"""Find the images under a folder, recognised by content, with labels from folders or a CSV."""
from __future__ import annotations

import csv
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from deepviz.errors import DeepvizError, UsageError
from deepviz.filenames import escape


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

    ``paths``    relative paths as stored in a project (``deepviz.filenames``: "/" between folders,
                 a backslash, a byte that is not UTF-8 and a control character escaped), sorted,
                 one per image file: the project's row order for new images, and the row order of
                 a bare precomputed feature matrix.
    ``labels``   one label per path (or None): the folder it sits in, or the CSV's value.
    ``rejects``  (stored path, reason) of the entries that could not be scanned: an unreadable
                 folder, a symbolic link loop, a link out of the folder not followed; sorted.
    ``uri``      for images in object storage (``deepviz.images.remote``), the URI scanned; ``root``
                 is then the folder's path inside that filesystem.
    """

    root: Path
    paths: list[str]
    labels: list[str | None]
    rejects: list[tuple[str, str]] = field(default_factory=list)
    uri: str | None = None


HEAD_BYTES = 16  # enough of a file's start to tell its format


def looks_like_image(path: str | os.PathLike[str]) -> bool:
    """True when the file's first bytes are those of an image format (extension ignored)."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        return False
    return is_image_head(head)


def is_image_head(head: bytes) -> bool:
    """True when ``head``, a file's first HEAD_BYTES, starts like an image format."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return head.startswith(_MAGIC)


def claims_image(name: str) -> bool:
    """Whether a file's name has an image format's extension."""
    return os.path.splitext(name)[1].lower() in _IMAGE_SUFFIXES


def _inside(path: str, folder: str) -> bool:
    """Whether the real path ``path`` is ``folder`` or under it (both absolute and resolved)."""
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives on Windows
        return False


@dataclass(frozen=True)
class _Folder:
    """A folder still to list: ``path`` to open, ``rel`` its name under the root ('' for the root),
    ``chain`` the (device, inode) of it and of every folder it was reached through."""

    path: str
    rel: str
    chain: frozenset[tuple[int, int]]


class _Walk:
    """One walk of an image folder: the candidate image files and the entries rejected, with why.

    Hidden entries and ``skip`` folders are pruned. A symbolic link is followed when it leads
    inside the image folder, or anywhere with ``follow_symlinks``; a link to a folder it was
    reached through is a loop and is rejected rather than followed forever.
    """

    def __init__(self, root: Path, skip: frozenset[str], follow_symlinks: bool) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.skip = skip
        self.follow_symlinks = follow_symlinks
        self.found: list[str] = []
        self.rejects: list[tuple[str, str]] = []

    def run(self) -> None:
        info = os.stat(self.root)
        stack = [_Folder(os.fspath(self.root), "", frozenset({(info.st_dev, info.st_ino)}))]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder.path) as listing:
                    entries = list(listing)
            except OSError as err:
                if not folder.rel:
                    raise UsageError(
                        f"cannot read the image folder {escape(os.fspath(self.root))} ({err.strerror}); "
                        "check its permissions"
                    ) from None
                # Said, not skipped silently: the user may have expected its images.
                self._reject(folder.rel, f"folder cannot be read ({err.strerror}); nothing in it was scanned")
                continue
            for entry in entries:
                if not entry.name.startswith("."):
                    self._entry(folder, entry, stack)

    def _entry(self, folder: _Folder, entry: os.DirEntry[str], stack: list[_Folder]) -> None:
        rel = f"{folder.rel}/{entry.name}" if folder.rel else entry.name
        try:
            if entry.is_symlink():
                self._link(folder, entry, rel, stack)
            elif entry.is_dir(follow_symlinks=False):
                self._folder(folder, entry.path, rel, os.stat(entry.path), stack)
            elif entry.is_file(follow_symlinks=False):
                self._file(entry.path, rel)
        except OSError as err:
            self._reject(rel, f"cannot be read ({err.strerror})")

    def _link(self, folder: _Folder, entry: os.DirEntry[str], rel: str, stack: list[_Folder]) -> None:
        try:
            info = os.stat(entry.path)  # follows the link
        except OSError as err:
            if err.errno == errno.ELOOP:
                self._reject(rel, "symbolic link loop: the link leads back to itself; fix or remove it")
            elif err.errno != errno.ENOENT or claims_image(entry.name):
                self._reject(rel, f"symbolic link cannot be followed ({err.strerror})")
            return  # a dangling link that does not claim to be an image is ignored like any other file
        target = os.path.realpath(entry.path)
        is_dir = stat.S_ISDIR(info.st_mode)
        if not self.follow_symlinks and not _inside(target, self.real_root):
            kind = "folder" if is_dir else "file"
            self._reject(
                rel,
                f"symbolic link to a {kind} outside the image folder ({escape(target)}); "
                "not followed unless the build is given --follow-symlinks",
            )
        elif is_dir:
            self._folder(folder, entry.path, rel, info, stack)
        elif stat.S_ISREG(info.st_mode):
            self._file(entry.path, rel)

    def _folder(self, parent: _Folder, path: str, rel: str, info: os.stat_result, stack: list[_Folder]) -> None:
        if os.path.realpath(path) in self.skip:
            return
        key = (info.st_dev, info.st_ino)
        if key in parent.chain:
            self._reject(rel, "symbolic link loop: it leads back to a folder that contains it; not followed")
            return
        stack.append(_Folder(path, rel, parent.chain | {key}))

    def _file(self, path: str, rel: str) -> None:
        # A claimed image is a candidate (it is rejected later if it lies);
        # anything else must prove it is an image by its bytes.
        if claims_image(path) or looks_like_image(path):
            self.found.append(escape(rel))

    def _reject(self, rel: str, reason: str) -> None:
        self.rejects.append((escape(rel), reason))


def label_from_folder(relpath: str, depth: int | None = None) -> str | None:
    """The folder an image sits in, as a label: ``a/b/c.jpg`` -> ``a/b`` (``depth=1`` -> ``a``)."""
    parts = relpath.split("/")[:-1]
    if not parts:
        return None
    if depth is not None:
        parts = parts[:depth]
    return "/".join(parts)


def read_label_csv(csv_path: str | os.PathLike[str]) -> dict[str, str]:
    """A ``path,label`` CSV (header optional) -> {relative path: label}.

    Paths are matched in their stored form (``deepviz.filenames``); one written with "\\"
    separators is matched as if written with "/".
    """
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
            # Under the path as written (the stored form, as --list-files prints it) and as a
            # Windows-style path would be stored (a\b.jpg -> a/b.jpg); the exact one wins.
            label = row[1].strip()
            labels.setdefault(normalize_relpath(row[0]), label)
            labels[_strip_dot(row[0].strip())] = label
    return labels


def normalize_relpath(path: str) -> str:
    """User-written relative path -> the POSIX form stored in projects ('./a\\b.jpg' -> 'a/b.jpg')."""
    return _strip_dot(path.strip().replace("\\", "/"))


def _strip_dot(path: str) -> str:
    while path.startswith("./"):
        path = path[2:]
    return path


def scan(
    root: str | os.PathLike[str],
    *,
    label_depth: int | None = None,
    labels_csv: str | os.PathLike[str] | None = None,
    skip: tuple[str | os.PathLike[str], ...] = (),
    follow_symlinks: bool = False,
) -> ScanResult:
    """Walk ``root`` recursively and return every candidate image, sorted, with its label.

    Non-image files are ignored quietly. ``labels_csv`` overrides folder labels for the
    paths it names. ``skip`` folders (e.g. a project written inside the image folder) are
    not entered. Symbolic links leading out of ``root`` are followed only with
    ``follow_symlinks``; the ones not followed, link loops and unreadable folders are
    returned as ``rejects`` with their reason.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotAFolder(f"{escape(os.fspath(root))} is not a folder; pass the folder that holds your images")
    walk = _Walk(root, frozenset(os.path.realpath(s) for s in skip), follow_symlinks)
    walk.run()
    paths = sorted(walk.found)
    return ScanResult(root=root, paths=paths, labels=labelled(paths, label_depth, labels_csv), rejects=sorted(walk.rejects))


def labelled(paths: list[str], label_depth: int | None, labels_csv: str | os.PathLike[str] | None) -> list[str | None]:
    """One label per stored path: its folder (``label_depth`` levels of it), or the CSV's label where it names the path."""
    labels = [label_from_folder(p, label_depth) for p in paths]
    if labels_csv is not None:
        override = read_label_csv(labels_csv)
        labels = [override.get(p, lab) for p, lab in zip(paths, labels)]
    return labels
