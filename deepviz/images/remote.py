"""Images in object storage (``s3://``, ``gs://``, or any URI pyarrow's filesystems resolve): scanned like a local
folder (the same image rule, hidden entries skipped, folders as labels) and read as bytes by the decoders.

Credentials are pyarrow's, which are the cloud's standard ones: for ``s3://`` the ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` (or ``AWS_PROFILE``, or the instance's role) and ``AWS_DEFAULT_REGION``; for ``gs://``
``GOOGLE_APPLICATION_CREDENTIALS`` (or the instance's service account). Options pyarrow takes in the URI's query
(``?region=...``, ``?endpoint_override=...``) pass through.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from deepviz.errors import DeepvizError
from deepviz.filenames import escape, unescape
from deepviz.images.scan import HEAD_BYTES, ScanResult, claims_image, is_image_head, labelled

__all__ = ["RemoteUnreadable", "is_uri", "open_uri", "read_bytes", "scan_uri"]

_CREDENTIALS = (
    "for s3:// the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and AWS_DEFAULT_REGION variables, "
    "for gs:// GOOGLE_APPLICATION_CREDENTIALS"
)


class RemoteUnreadable(DeepvizError, OSError):
    """The images' URI cannot be listed: a wrong address, a bucket that is not there, or no credentials."""


def is_uri(images: str | os.PathLike[str]) -> bool:
    """Whether ``images`` names a folder in a filesystem by URI (``s3://bucket/prefix``) rather than a local path."""
    return isinstance(images, str) and "://" in images and bool(urlsplit(images).scheme)


def open_uri(uri: str) -> tuple[Any, str]:
    """(pyarrow filesystem, the folder's path inside it) for ``uri``; a clear message when pyarrow cannot resolve it."""
    from pyarrow import ArrowException
    from pyarrow.fs import FileSystem

    try:
        fs, path = FileSystem.from_uri(uri)
    except (ArrowException, OSError, ValueError) as err:
        raise RemoteUnreadable(
            f"cannot open the images at {uri} ({err}); give a folder as s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or "
            "file:///ABSOLUTE/PATH, with credentials in the standard environment: " + _CREDENTIALS
        ) from None
    return fs, path.rstrip("/")


def scan_uri(uri: str, *, label_depth: int | None = None, labels_csv: str | os.PathLike[str] | None = None) -> ScanResult:
    """Every candidate image under ``uri``, sorted, with its label: the local scan's rule on a filesystem listing.

    ``root`` of the result is the folder's path inside its filesystem, ``uri`` the URI as given (without a trailing "/").
    Object stores have no links and no unreadable subfolders, so there are no rejects.
    """
    from pyarrow.fs import FileSelector, FileType

    fs, base = open_uri(uri)
    try:
        listing = fs.get_file_info(FileSelector(base, recursive=True))
    except (OSError, ValueError) as err:
        raise RemoteUnreadable(
            f"cannot list the images at {uri} ({err}); check that the bucket and prefix exist and that the credentials "
            f"can list them: {_CREDENTIALS}"
        ) from None
    found = []
    for info in listing:
        rel = info.path[len(base):].lstrip("/")
        if info.type != FileType.File or any(part.startswith(".") for part in rel.split("/")):
            continue  # hidden entries are pruned like the local scan prunes them
        if claims_image(rel) or _head_is_image(fs, info.path):
            found.append(escape(rel))
    paths = sorted(found)
    return ScanResult(root=Path(base), paths=paths, labels=labelled(paths, label_depth, labels_csv), uri=uri.rstrip("/"))


def _head_is_image(fs: Any, path: str) -> bool:
    try:
        with fs.open_input_file(path) as f:
            return is_image_head(f.read(HEAD_BYTES))
    except OSError:
        return False


def read_bytes(fs: Any, base: str, stored_path: str) -> io.BytesIO:
    """The file at ``stored_path`` (as a project stores it) under ``base`` in ``fs``, read whole."""
    with fs.open_input_file(f"{base}/{unescape(stored_path)}") as f:
        return io.BytesIO(f.read())
