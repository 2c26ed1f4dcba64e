"""Queries by uploaded image: the extractor of each feature set, the build's centre crop, and the last uploads kept.

An upload is decoded under its own pixel and memory budget (``deepviz serve --upload-max-pixels``,
``--upload-max-decode-mb``), one at a time: two big uploads at once would otherwise double the
server's peak memory, and any page could send them.
"""
from __future__ import annotations

import hashlib
import io
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepviz.atomic import atomic_path
from deepviz.core.normalize import l2_normalize
from deepviz.features.base import Extractor, TextEmbedder
from deepviz.features.registry import get_extractor, may_embed_text
from deepviz.images.decode import DecodeLimits, decode_crop, decode_size, pixel_limit, resize_square
from deepviz.images.thumbs import encode_thumbnails
from deepviz.settings import ServeSettings
from deepviz.storage.project import Project

QUERY_THUMB_SIZE = 128
# How long an upload waits for the one decode slot before the answer is 503 "busy, retry". Waiting
# lets two uploads made together both succeed (a decode within budget takes seconds), while a
# pile-up cannot hold the server's worker threads, which every other request needs too, for long.
UPLOAD_WAIT_S = 30.0
_DECODING = threading.Lock()  # per process, as the memory it guards is

# What a failing extractor load raises: unknown name (ValueError), a missing optional package
# (MissingDependency, an ImportError), unreadable weights (OSError) or a model runtime refusing them.
_LOAD_ERRORS = (ImportError, ValueError, OSError, RuntimeError)


class CannotEmbed(Exception):
    """New images cannot be embedded into a feature set; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class UploadBusy(CannotEmbed):
    """Another upload was being decoded for longer than ``UPLOAD_WAIT_S``."""

    def __init__(self) -> None:
        super().__init__(503, "the server is busy decoding another uploaded image; retry in a few seconds")


def upload_limits(settings: ServeSettings) -> DecodeLimits:
    """The decode budget of an upload, and the `deepviz serve` options that raise it."""
    return DecodeLimits(
        max_pixels=settings.upload_max_pixels,
        max_decode_mb=settings.upload_max_decode_mb,
        pixels_option="deepviz serve --upload-max-pixels",
        memory_option="deepviz serve --upload-max-decode-mb",
    )


class Embedders:
    """The extractor of each feature set, loaded once; an injected ``embedder`` serves the default set."""

    def __init__(self, project: Project, embedder: Extractor | None = None) -> None:
        self.project = project
        self._loaded: dict[str, Extractor | CannotEmbed] = {}
        self._lock = threading.Lock()
        if embedder is not None:
            default = project.default_feature_set
            dim = project.feature_info(default).dim
            if embedder.dim != dim:
                raise ValueError(
                    f"the embedder {embedder.name!r} gives {embedder.dim} dimensions but the default feature set "
                    f"{default!r} has {dim}; inject the extractor that built it"
                )
            self._loaded[default] = embedder

    def get(self, feature_set: str) -> Extractor:
        """The extractor that embeds new images like ``feature_set``'s, or raise CannotEmbed saying why."""
        with self._lock:  # a model loads once even when several uploads arrive together
            if feature_set not in self._loaded:
                self._loaded[feature_set] = self._load(feature_set)
            found = self._loaded[feature_set]
        if isinstance(found, CannotEmbed):
            raise found
        return found

    def can_embed(self, feature_set: str) -> bool:
        try:
            self.get(feature_set)
        except CannotEmbed:
            return False
        return True

    def text(self, feature_set: str) -> TextEmbedder:
        """The text tower that embeds words like ``feature_set``'s images, or raise CannotEmbed saying why not."""
        info = self.project.feature_info(feature_set)
        found = self.get(feature_set) if info.extractor is not None and may_embed_text(info.extractor) else None
        if isinstance(found, TextEmbedder) and found.supports_text:
            return found
        raise CannotEmbed(
            409,
            f"feature set {feature_set!r} has no text tower in its space, so it cannot be queried by text; build the "
            "project with a CLIP-like model (e.g. -m hf:openai/clip-vit-base-patch32 or hf:google/siglip-base-patch16-224)",
        )

    def can_embed_text(self, feature_set: str) -> bool:
        try:
            self.text(feature_set)
        except CannotEmbed:
            return False
        return True

    def _load(self, feature_set: str) -> Extractor | CannotEmbed:
        info = self.project.feature_info(feature_set)
        if info.extractor is None:
            return CannotEmbed(
                409,
                "this project's features were imported from a file, so new images cannot be embedded; "
                "build with --model to query by upload",
            )
        try:
            extractor = get_extractor(info.extractor)
        except _LOAD_ERRORS as err:
            return CannotEmbed(
                503,
                f"feature set {feature_set!r} was made by the extractor {info.extractor!r}, which cannot be "
                f"loaded here ({err}); fix that and restart `deepviz serve` to query by upload",
            )
        if extractor.dim != info.dim:
            return CannotEmbed(
                409,
                f"the extractor {info.extractor!r} now gives {extractor.dim} dimensions but feature set "
                f"{feature_set!r} has {info.dim}; rebuild the project to query by upload",
            )
        return extractor


@dataclass(frozen=True)
class Upload:
    """One uploaded image as a query.

    ``vector``  (D,) float32 unit-norm features in ``feature_set``
    ``thumb``   JPEG bytes of the centre crop at 128 px, as the map shows images
    ``width``, ``height``  size of the uploaded original
    ``name``    the uploaded file's name (no folders; "" if it had none), for the page to show
    """

    key: str
    feature_set: str
    vector: np.ndarray
    thumb: bytes
    width: int
    height: int
    name: str = ""


NAME_CHARS = 120


def upload_name(filename: str | None) -> str:
    """The name an uploaded file is shown by: its last path part, control characters dropped, at most NAME_CHARS."""
    base = re.split(r"[\\/]", filename or "")[-1]
    return "".join(c for c in base if c.isprintable())[:NAME_CHARS]


def embed_upload(
    data: bytes,
    extractor: Extractor,
    thumb_sizes: tuple[int, ...],
    decode_at: int | None = None,
    limits: DecodeLimits | None = None,
    wait_s: float | None = None,
) -> tuple[np.ndarray, bytes, int, int]:
    """Image file bytes -> ((D,) float32 unit vector, 128 px JPEG of the crop, width, height).

    ``decode_at`` is the crop size the build decoded at (its manifest says); the upload goes
    through the same decode and resize, so a project image uploaded gets exactly its features.
    ``limits`` is the decode budget (default: ``ServeSettings``'s). One upload is decoded at a
    time; the next waits up to ``wait_s`` seconds (default ``UPLOAD_WAIT_S``), then UploadBusy (503) is raised.
    Raises ImageRejected for anything that is not a usable image or is over the budget.
    """
    limits = limits or upload_limits(ServeSettings())
    size = decode_at or decode_size([extractor.input_size], thumb_sizes)
    if not _DECODING.acquire(timeout=UPLOAD_WAIT_S if wait_s is None else wait_s):
        raise UploadBusy()
    try:
        with pixel_limit(limits.max_pixels):  # so that Pillow's own refusal does not come first
            decoded = decode_crop(io.BytesIO(data), size, limits=limits)
    finally:
        _DECODING.release()
    raw = extractor.embed(resize_square(decoded.crop, extractor.input_size)[None])
    vector = l2_normalize(np.asarray(raw, dtype=np.float32).reshape(1, -1))[0]
    (thumb,) = encode_thumbnails(decoded.crop, (QUERY_THUMB_SIZE,))
    return vector, thumb, decoded.width, decoded.height


def upload_key(feature_set: str, data: bytes) -> str:
    """The key of an upload: a hash of its bytes and feature set, so the same image uploaded again,
    or asked for by a URL saved before a restart, is the same query."""
    return "u" + hashlib.sha256(feature_set.encode() + b"\0" + data).hexdigest()[:20]


class UploadFiles:
    """The uploaded files themselves, kept in a folder so a shared URL outlives a server restart;
    the oldest beyond ``keep`` are deleted."""

    def __init__(self, folder: Path, keep: int = 256) -> None:
        self.folder = folder
        self.keep = keep

    def save(self, key: str, feature_set: str, data: bytes, name: str = "") -> None:
        """Keep the file (and, beside it, the name it was uploaded by)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.folder / f"{key}.upload") as tmp:
            tmp.write_bytes(feature_set.encode() + b"\0" + data)
        if name:
            with atomic_path(self.folder / f"{key}.name") as tmp:
                tmp.write_text(name, encoding="utf-8")
        files = sorted(self.folder.glob("*.upload"), key=lambda p: p.stat().st_mtime)
        for old in files[: max(0, len(files) - self.keep)]:
            old.unlink(missing_ok=True)
            old.with_suffix(".name").unlink(missing_ok=True)

    def load_name(self, key: str) -> str:
        """The name upload ``key`` was uploaded by, "" if none was kept."""
        if not key.startswith("u") or not key[1:].isalnum():
            return ""
        try:
            return upload_name((self.folder / f"{key}.name").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return ""

    def load(self, key: str) -> tuple[str, bytes] | None:
        """(feature set, file bytes) of upload ``key``, or None if it was never kept here."""
        if not key.startswith("u") or not key[1:].isalnum():
            return None
        try:
            raw = (self.folder / f"{key}.upload").read_bytes()
        except OSError:
            return None
        feature_set, _, data = raw.partition(b"\0")
        return feature_set.decode(), data


class Uploads:
    """The last ``keep`` uploaded queries in memory, by key (see ``upload_key``)."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._items: OrderedDict[str, Upload] = OrderedDict()
        self._lock = threading.Lock()

    def add(
        self, key: str, feature_set: str, vector: np.ndarray, thumb: bytes, width: int, height: int, name: str = ""
    ) -> Upload:
        with self._lock:
            query = Upload(key, feature_set, vector, thumb, width, height, name)
            self._items[query.key] = query
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return query

    def get(self, key: str) -> Upload | None:
        """The upload ``key`` if it is in memory."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
        return found
