"""Queries by uploaded image: the extractor of each feature set, the build's centre crop, and the last uploads kept."""
from __future__ import annotations

import io
import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from deepviz.core.normalize import l2_normalize
from deepviz.features.base import Extractor
from deepviz.images.decode import decode_crop, decode_size, resize_square
from deepviz.images.thumbs import encode_thumbnails
from deepviz.storage.project import Project

QUERY_THUMB_SIZE = 128
DEFAULT_KEEP = 64

# What a failing extractor load raises: unknown name (ValueError), a missing optional package
# (MissingDependency, an ImportError), unreadable weights (OSError) or a model runtime refusing them.
_LOAD_ERRORS = (ImportError, ValueError, OSError, RuntimeError)


class CannotEmbed(Exception):
    """New images cannot be embedded into a feature set; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Embedders:
    """The extractor of each feature set, loaded once; an injected ``embedder`` serves the default set."""

    def __init__(self, project: Project, embedder: Extractor | None = None) -> None:
        self.project = project
        self._loaded: dict[str, Extractor | CannotEmbed] = {}
        self._lock = threading.Lock()
        if embedder is not None:
            info = project.feature_info()
            if embedder.dim != info.dim:
                raise ValueError(
                    f"the embedder {embedder.name!r} gives {embedder.dim} dimensions but the default feature set "
                    f"{info.name!r} has {info.dim}; inject the extractor that built it"
                )
            self._loaded[info.name] = embedder

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

    def _load(self, feature_set: str) -> Extractor | CannotEmbed:
        info = self.project.feature_info(feature_set)
        if info.extractor is None:
            return CannotEmbed(
                409,
                "this project's features were imported from a file, so new images cannot be embedded; "
                "build with --model to query by upload",
            )
        from deepviz.features.registry import get_extractor

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
    """

    key: str
    feature_set: str
    vector: np.ndarray
    thumb: bytes
    width: int
    height: int


def embed_upload(
    data: bytes, extractor: Extractor, thumb_sizes: tuple[int, ...], decode_at: int | None = None
) -> tuple[np.ndarray, bytes, int, int]:
    """Image file bytes -> ((D,) float32 unit vector, 128 px JPEG of the crop, width, height).

    ``decode_at`` is the crop size the build decoded at (its manifest says); the upload goes
    through the same decode and resize, so a project image uploaded gets exactly its features.
    Raises ImageRejected for anything that is not a usable image.
    """
    decoded = decode_crop(io.BytesIO(data), decode_at or decode_size([extractor.input_size], thumb_sizes))
    raw = extractor.embed(resize_square(decoded.crop, extractor.input_size)[None])
    vector = l2_normalize(np.asarray(raw, dtype=np.float32).reshape(1, -1))[0]
    (thumb,) = encode_thumbnails(decoded.crop, (QUERY_THUMB_SIZE,))
    return vector, thumb, decoded.width, decoded.height


class Uploads:
    """The last ``keep`` uploaded queries, by key ``u<k>``.

    Keys count up from the server's start time in milliseconds, so a key in a URL saved from
    an earlier run is not mistaken for a different upload of this run.
    """

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        self.keep = keep
        self._items: OrderedDict[str, Upload] = OrderedDict()
        self._counter = itertools.count(int(time.time() * 1000))
        self._lock = threading.Lock()

    def add(self, feature_set: str, vector: np.ndarray, thumb: bytes, width: int, height: int) -> Upload:
        with self._lock:
            query = Upload(f"u{next(self._counter)}", feature_set, vector, thumb, width, height)
            self._items[query.key] = query
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return query

    def get(self, key: str) -> Upload:
        """The upload ``key``, or KeyError with a message saying what to do."""
        with self._lock:
            found = self._items.get(key)
        if found is None:
            raise KeyError(
                f"no uploaded query {key!r} here: the server keeps the last {self.keep} uploads of this run; "
                "upload the image again"
            )
        return found
