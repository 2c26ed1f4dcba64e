"""Labels as ground truth for a project: the whole-set evaluation of each feature set, as plain data.

The numbers are :mod:`deepviz.core.evaluation`'s; this module only reads the project (labels,
memory-mapped features) and shapes the answer `deepviz eval --json` prints and the server sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deepviz.core.evaluation import QueryScores, by_class, evaluate_queries
from deepviz.errors import UsageError
from deepviz.storage.project import Project

__all__ = ["LabelCodes", "evaluate_project", "label_codes", "summary"]


@dataclass(frozen=True)
class LabelCodes:
    """``codes`` (N,) int64 per image: index into ``names``, or -1 for an unlabelled image."""

    codes: NDArray[np.int64]
    names: list[str]


def label_codes(project: Project) -> LabelCodes:
    """Every image's label as a code; refuses a project without labels, saying how to give some."""
    labels = project.images["label"]
    present = labels.notna()
    names = sorted({str(v) for v in labels[present]})
    if len(names) == 0:
        raise UsageError(
            f"{project.root} has no labels, so there is no ground truth to evaluate against; build it from a folder "
            "of class sub-folders, or give a CSV: `deepviz build IMAGES -o PROJECT --labels LABELS.csv`"
        )
    index = {name: i for i, name in enumerate(names)}
    codes = np.array([index[str(v)] if ok else -1 for v, ok in zip(labels, present)], dtype=np.int64)
    return LabelCodes(codes, names)


def evaluate_project(project: Project, feature_set: str | None, k: int, labels: LabelCodes | None = None) -> QueryScores:
    """Every query's AP and top-``k`` hits under ``feature_set`` (the default set if None)."""
    labels = labels or label_codes(project)
    return evaluate_queries(project.features(feature_set), labels.codes, k)


def summary(project: Project, feature_set: str | None, k: int, scores: QueryScores, labels: LabelCodes) -> dict[str, Any]:
    """The JSON object of one feature set: feature_set, k, queries, skipped, unlabelled, map,
    precision_at_k and classes (label, n, map, precision_at_k), as the README defines them."""
    labelled = labels.codes >= 0
    counted = len(scores.ids)
    return {
        "feature_set": feature_set or project.default_feature_set,
        "k": k,
        "queries": counted,
        "skipped": int(np.count_nonzero(labelled)) - counted,
        "unlabelled": int(np.count_nonzero(~labelled)),
        "map": _mean(scores.ap),
        "precision_at_k": _mean(scores.precision),
        "classes": [
            {"label": labels.names[c.code], "n": c.n, "map": c.map, "precision_at_k": c.precision_at_k}
            for c in by_class(scores, labels.codes)
        ],
    }


def _mean(values: NDArray[np.float64]) -> float | None:
    return float(values.mean()) if len(values) else None
