"""Quality of a 2-D layout against the features it came from, and labelled synthetic features.

    neighbours_kept(features, xy, k, sample)   share of each sampled row's k nearest feature-space
                                               neighbours (cosine) that are among its k nearest on the map
    knn_label_accuracy(xy, labels, k, sample)  leave-one-out k-NN majority vote of the labels, on the map
    clustered_features(n, d, classes)          (n, d) unit rows in classes nested in superclasses, with labels

Both metrics use exact neighbours (scikit-learn) on a seeded sample of rows, so they cost seconds at 100k.
"""
from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors


def _sample(n: int, sample: int, seed: int = 0) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).choice(n, size=min(n, sample), replace=False))


def _neighbours(points: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """(len(rows), k) indices of each sampled row's k nearest other rows (Euclidean)."""
    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(points)
    idx: np.ndarray = nn.kneighbors(points[rows], return_distance=False)
    # Drop the row itself (first unless it has exact duplicates: then drop whichever match it).
    out = np.empty((len(rows), k), np.int64)
    for i, (r, found) in enumerate(zip(rows, idx)):
        out[i] = [j for j in found if j != r][:k]
    return out


def neighbours_kept(features: np.ndarray, xy: np.ndarray, k: int = 10, sample: int = 2000) -> float:
    """Mean share of the k nearest neighbours in feature space (cosine) kept among the k nearest on the map."""
    x = np.asarray(features, np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)  # Euclidean on unit rows = cosine order
    rows = _sample(len(x), sample)
    a, b = _neighbours(x, rows, k), _neighbours(np.asarray(xy, np.float32), rows, k)
    return float(np.mean([len(np.intersect1d(p, q)) / k for p, q in zip(a, b)]))


def knn_label_accuracy(points: np.ndarray, labels: np.ndarray, k: int = 10, sample: int = 5000) -> float:
    """Leave-one-out k-NN majority-vote accuracy of ``labels`` on ``points`` (the map, or features)."""
    rows = _sample(len(points), sample)
    idx = _neighbours(np.asarray(points, np.float32), rows, k)
    votes = labels[idx]
    guess = np.array([np.bincount(v).argmax() for v in votes])
    return float((guess == labels[rows]).mean())


NOISE = 1.6  # within-class spread: 10-NN label accuracy in feature space about 0.87


def clustered_features(n: int, d: int = 1280, classes: int = 100, superclasses: int = 10, seed: int = 0,
                       draws_seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(n, d) float32 unit rows and (n,) int labels: classes nested in superclasses, overlapping like real
    features do (the k-NN label accuracy in feature space is well below 1), with a low-rank structure.
    ``seed`` fixes the classes; ``draws_seed`` (default: the same stream) the rows drawn from them, so
    a big set can be written block by block from one set of classes."""
    rng = np.random.default_rng(seed)
    rank = 64  # the class structure lives in a subspace, as CNN features' does; the rest is noise
    basis = np.linalg.qr(rng.normal(size=(d, rank)))[0].T.astype(np.float32)  # (rank, d) orthonormal
    supers = rng.normal(size=(superclasses, rank)) * 1.0
    centres = supers[rng.integers(0, superclasses, classes)] + rng.normal(size=(classes, rank)) * 0.7
    if draws_seed is not None:
        rng = np.random.default_rng(draws_seed)
    labels = rng.integers(0, classes, n)
    out = np.empty((n, d), np.float32)
    for s in range(0, n, 8192):
        lab = labels[s : s + 8192]
        low = (centres[lab] + rng.normal(size=(len(lab), rank)) * NOISE).astype(np.float32)
        block = low @ basis + rng.normal(size=(len(lab), d)).astype(np.float32) * 0.02
        out[s : s + len(lab)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out, labels
