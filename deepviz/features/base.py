"""The contract every feature extractor meets, so the pipeline never knows which model it drives."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Extractor(Protocol):
    """Turns centre-cropped RGB squares into feature vectors.

    - ``name``: registry name that rebuilds this extractor (stored in the project manifest).
    - ``dim``: D, the length of one feature vector.
    - ``input_size``: S, the side in pixels of the squares ``embed`` expects.

    An extractor may also define ``concurrent_batches`` (int): how many ``embed`` calls may run at
    once from different threads (1 when absent: calls never overlap).
    """

    name: str
    dim: int
    input_size: int

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(B, S, S, 3) uint8 RGB squares -> (B, D) float32 features, *not* L2-normalised.

        Any model-specific preprocessing (mean/std, channel order) happens inside.
        """
        ...


@runtime_checkable
class TextEmbedder(Protocol):
    """An extractor whose image features share a space with a text tower (CLIP-like models).

    - ``supports_text``: False when the chosen features are not in the text's space (another layer or pooling).
    """

    supports_text: bool

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """(T,) strings -> (T, D) float32 embeddings comparable with ``embed``'s, *not* L2-normalised."""
        ...
