"""Rankings for the server: the feature matrices held ready and recent rankings kept within a byte budget."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from deepviz.core.duplicates import duplicate_groups, near_duplicate_pairs, redundant_members
from deepviz.core.similarity import has_fast_kernel, rank, ranks_of, to_float32
from deepviz.storage.project import Project

# Without the fast extra, a float32 copy turns a 1M x 512 ranking from ~0.5 s (float16 blocks)
# into ~50 ms of matvec. With it, the float16 map is read at memory speed and never copied.
DEFAULT_RAM_COPY_BYTES = 4 << 30
# Above this many float16 values a set ranked without the fast extra takes over ~1 s a query.
SLOW_VALUES = 1 << 28


@dataclass(frozen=True)
class Ranking:
    """One query's ranking of the whole set.

    ``order``  (N,) int32 ids, most similar first (ties by lower id)
    ``sims``   (N,) float32 similarity of ``order[k]``, non-increasing
    """

    order: np.ndarray
    sims: np.ndarray
    ids: int = -1
    """How many ids the project has: ``len(order)`` (given as -1) unless some are left out (:meth:`without`)."""

    @property
    def id_count(self) -> int:
        return len(self.order) if self.ids < 0 else self.ids

    @property
    def nbytes(self) -> int:
        """Bytes held, counting the rank of each id that :attr:`ranks` may add."""
        return int(self.order.nbytes + self.sims.nbytes + 4 * self.id_count)

    @cached_property
    def ranks(self) -> np.ndarray:
        """(N,) int32 rank of each id, -1 for an id left out (made on first use: hovers and rank correlations need it)."""
        if self.id_count == len(self.order):
            return ranks_of(self.order)
        ranks = np.full(self.id_count, -1, dtype=np.int32)
        ranks[self.order] = np.arange(len(self.order), dtype=np.int32)
        return ranks

    def without(self, left_out: np.ndarray) -> Ranking:
        """This ranking with the ids where ``left_out`` (N,) bool is True removed (the others keep their order)."""
        keep = ~left_out[self.order]
        return Ranking(self.order[keep], self.sims[keep], self.id_count)

    def to_bytes(self, start: int = 0, stop: int | None = None) -> bytes:
        """Ids ``order[start:stop]`` as little-endian int32, then their similarities as little-endian float32."""
        ids = np.ascontiguousarray(self.order[start:stop], dtype="<i4")
        sims = np.ascontiguousarray(self.sims[start:stop], dtype="<f4")
        return ids.tobytes() + sims.tobytes()


class Rankings:
    """Ranks queries against a project's feature sets, remembering recent answers.

    ``cache_bytes``     bound on the bytes of rankings kept (least recently used go first)
    ``ram_copy_bytes``  without the fast extra: bound on the float32 copies of feature sets held
                        in memory; a set that does not fit is ranked from its float16 memory map
                        block by block. With it every set is ranked from its map, so this is unused.
    """

    def __init__(
        self, project: Project, *, cache_bytes: int, ram_copy_bytes: int = DEFAULT_RAM_COPY_BYTES
    ) -> None:
        self.project = project
        self.cache_bytes = cache_bytes
        self.ram_copy_bytes = ram_copy_bytes
        self._cache: OrderedDict[tuple[str, int | str], Ranking] = OrderedDict()
        self._cached_bytes = 0
        self._matrices: dict[str, np.ndarray] = {}
        self._copied_bytes = 0
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._hidden: dict[tuple[str, float], np.ndarray] = {}

    def matrix(self, feature_set: str) -> np.ndarray:
        """(N, D) features of ``feature_set``: a float32 copy in RAM if the budget allows, else the float16 map."""
        with self._load_lock:  # one load at a time: two copies of a 2 GB matrix would not fit
            if feature_set not in self._matrices:
                self._matrices[feature_set] = self._load(feature_set)
            return self._matrices[feature_set]

    def warm_up(self, feature_set: str) -> None:
        """Map (or copy) ``feature_set`` and compile the float16 kernel now, not at the first query."""
        self.matrix(feature_set)
        if has_fast_kernel():
            from deepviz.core.halfdot import compile_now

            compile_now()

    def slow_hint(self, feature_set: str) -> str | None:
        """What to install when ``feature_set`` is ranked block by block and is big enough to be slow."""
        mapped = self.project.features(feature_set)
        if mapped.dtype != np.float16 or mapped.size < SLOW_VALUES or has_fast_kernel():  # numba's import last: ~1 s
            return None
        if mapped.size * 4 + self._copied_bytes <= self.ram_copy_bytes:
            return None
        return (
            f"Ranking {mapped.shape[0]:,} x {mapped.shape[1]} float16 features block by block takes seconds a query; "
            "pip install 'deepviz[fast]' (numba) ranks them at memory speed."
        )

    def _load(self, feature_set: str) -> np.ndarray:
        mapped = self.project.features(feature_set)
        size = mapped.shape[0] * mapped.shape[1] * 4
        if has_fast_kernel() and mapped.dtype == np.float16:
            return mapped
        if self._copied_bytes + size > self.ram_copy_bytes:
            return mapped
        copy = np.empty(mapped.shape, dtype=np.float32)
        step = 1 << 14
        for start in range(0, len(mapped), step):
            to_float32(mapped[start : start + step], copy[start : start + step])
        self._copied_bytes += size
        return copy

    def query_vector(self, feature_set: str, image_id: int) -> np.ndarray:
        """(D,) float32 stored row of ``image_id``: an image is queried by its own stored features."""
        return np.asarray(self.matrix(feature_set)[image_id], dtype=np.float32)

    def for_image(self, feature_set: str, image_id: int) -> Ranking:
        """The ranking for image ``image_id`` as the query (its stored row, not renormalised, so a
        similarity is exactly the dot product of two stored rows)."""
        return self._get(feature_set, image_id, lambda: self.query_vector(feature_set, image_id))

    def for_vector(self, feature_set: str, key: str, query: np.ndarray) -> Ranking:
        """The ranking for an outside query ``key`` whose (D,) float32 unit vector is ``query``."""
        return self._get(feature_set, key, lambda: query)

    def hidden_duplicates(self, feature_set: str, threshold: float) -> np.ndarray:
        """(N,) bool: the near-duplicates hidden at ``threshold`` (all of each group but its first), found once
        per feature set and threshold (one pass over the similarity matrix) and kept."""
        key = (feature_set, threshold)
        with self._load_lock:
            have = self._hidden.get(key)
        if have is not None:
            return have
        pairs = near_duplicate_pairs(self.matrix(feature_set), threshold)
        mask = redundant_members(duplicate_groups(pairs, self.project.n), self.project.n)
        with self._load_lock:
            return self._hidden.setdefault(key, mask)

    def hiding_duplicates(self, feature_set: str, key: int | str, ranking: Ranking, threshold: float) -> Ranking:
        """``ranking`` (of query ``key``) without the near-duplicates hidden at ``threshold``, kept like a ranking."""
        cache_key = (feature_set, f"{key}|hide:{threshold!r}")
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None:
                self._cache.move_to_end(cache_key)
                return hit
        filtered = ranking.without(self.hidden_duplicates(feature_set, threshold))
        self._remember(cache_key, filtered)
        return filtered

    def _get(self, feature_set: str, key: int | str, vector: Callable[[], np.ndarray]) -> Ranking:
        cache_key = (feature_set, key)
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None:
                self._cache.move_to_end(cache_key)
                return hit
        # Ranked outside the lock so thumbnails and cache hits are served meanwhile.
        order, sims = rank(self.matrix(feature_set), vector())
        ranking = Ranking(order, sims)
        self._remember(cache_key, ranking)
        return ranking

    def _remember(self, key: tuple[str, int | str], ranking: Ranking) -> None:
        if ranking.nbytes > self.cache_bytes:
            return
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = ranking
            self._cached_bytes += ranking.nbytes
            while self._cached_bytes > self.cache_bytes:
                _, old = self._cache.popitem(last=False)
                self._cached_bytes -= old.nbytes

    @property
    def cached(self) -> int:
        """How many rankings are held now."""
        return len(self._cache)

    @property
    def cached_bytes(self) -> int:
        return self._cached_bytes
