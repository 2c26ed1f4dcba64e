"""t-SNE at scale: seconds per stage and layout quality, for the settings deepviz uses and the ones before.

    python bench/bench_tsne.py --n 100000            synthetic clustered 1280-d features (labels hidden)
    python bench/bench_tsne.py --project PROJECT     a built project's default features and its labels

Each variant runs the same stages as ``deepviz.core.tsne``: PCA, kNN + affinities, initialisation,
early exaggeration, then the main phase, with the layout's quality measured at several points of the
main phase (a run stopped after K iterations is exactly that snapshot). Quality: the share of each
row's 10 nearest neighbours in feature space (cosine) kept on the map, and the leave-one-out 10-NN
label accuracy on the map (the labels never reach t-SNE). The 2 cores are shared: every time is
reported beside the first variant's, measured in this same process.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.layout_quality import clustered_features, knn_label_accuracy, neighbours_kept  # noqa: E402
from deepviz.core import tsne as core  # noqa: E402


@dataclass(frozen=True)
class Variant:
    name: str
    pca: bool = True
    perplexity: float = 30.0
    n_trees: int = 50
    ee_iter: int = 250
    n_iter: int = 500
    intervals: int = 50
    pca_fit_rows: int | None = None  # rows the PCA axes are fitted on; None: deepviz's PCA_FIT_ROWS


BEFORE = Variant("before (deepviz 0.x)")
VARIANTS = {
    "before": BEFORE,
    "nopca": replace(BEFORE, name="no PCA (1280-d kNN)", pca=False),
    "trees": replace(BEFORE, name="Annoy 10 trees", n_trees=10),
    "short": replace(BEFORE, name="EE 125 + 300 iter", ee_iter=125, n_iter=300),
    "now": replace(BEFORE, name="deepviz now", ee_iter=core.SCHEDULE.ee_iter, n_iter=core.SCHEDULE.n_iter,
                   n_trees=core.SCHEDULE.n_trees),
}
VARIANTS["pcaall"] = replace(VARIANTS["now"], name="now, PCA fitted on all rows", pca_fit_rows=1 << 62)


def run(x: np.ndarray, v: Variant, jobs: int, labels: np.ndarray | None, checkpoints: list[int], seed: int = 0) -> dict:
    from openTSNE import TSNEEmbedding, affinity, initialization

    out: dict = {"variant": v.name}
    t = time.perf_counter()
    fit_rows, core.PCA_FIT_ROWS = core.PCA_FIT_ROWS, v.pca_fit_rows or core.PCA_FIT_ROWS
    reduced = core.reduce_dims(x, seed=seed) if v.pca else np.asarray(x, np.float32)
    core.PCA_FIT_ROWS = fit_rows
    out["pca"] = time.perf_counter() - t
    t = time.perf_counter()
    approx = len(x) >= core.APPROX_KNN_MIN_N
    perplexity = min(v.perplexity, (len(x) - 1) / 3)
    aff = affinity.PerplexityBasedNN(reduced, perplexity=perplexity, method="annoy" if approx else "exact", n_jobs=jobs,
                                     random_state=seed, knn_kwargs={"n_trees": v.n_trees} if approx else None)
    out["knn"] = time.perf_counter() - t
    t = time.perf_counter()
    init = initialization.pca(reduced, random_state=seed)
    emb = TSNEEmbedding(init, aff, negative_gradient_method="fft" if len(x) >= core.FFT_THRESHOLD else "bh",
                        n_jobs=jobs, random_state=seed, min_num_intervals=v.intervals)
    emb = emb.optimize(n_iter=v.ee_iter, exaggeration=12, momentum=0.8)
    out["ee"] = time.perf_counter() - t
    snaps: dict[int, np.ndarray] = {}
    stops = sorted(set([*checkpoints, v.n_iter]))
    done, main = 0, 0.0
    for stop in stops:
        if stop > v.n_iter:
            break
        t = time.perf_counter()
        emb = emb.optimize(n_iter=stop - done, momentum=0.8)
        main += time.perf_counter() - t
        snaps[stop] = np.asarray(emb).copy()
        out[f"t@{stop}"] = out["pca"] + out["knn"] + out["ee"] + main
        done = stop
    out["main"] = main
    out["total"] = out["pca"] + out["knn"] + out["ee"] + main
    for stop, xy in snaps.items():
        out[f"nn@{stop}"] = neighbours_kept(x, xy)
        if labels is not None:
            out[f"acc@{stop}"] = knn_label_accuracy(xy, labels)
    return out


def load(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray | None, str]:
    if args.project:
        import deepviz

        p = deepviz.open_project(args.project)
        names = p.images["label"].fillna("").astype(str).to_numpy()
        labels = np.unique(names, return_inverse=True)[1]
        return np.asarray(p.features(), np.float32), labels, f"{args.project} ({p.n} images)"
    x, labels = clustered_features(args.n, args.d, classes=args.classes)
    return x, labels, f"synthetic clustered features {args.n} x {args.d}, {args.classes} classes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=1280)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--project", type=Path)
    parser.add_argument("--variants", default="before,now")
    parser.add_argument("--checkpoints", default="150,250,350,500")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    x, labels, what = load(args)
    print(f"== t-SNE of {what}; {args.jobs} threads; load average {os.getloadavg()[0]:.1f} ==")
    if labels is not None:
        print(f"feature space itself: 10-NN label accuracy {knn_label_accuracy(x, labels):.3f}")
    checkpoints = [int(c) for c in args.checkpoints.split(",")]
    rows = [run(x, VARIANTS[name], args.jobs, labels, checkpoints) for name in args.variants.split(",")]
    base = rows[0]["total"]
    head = f"{'variant':<26}{'pca s':>7}{'kNN s':>7}{'EE s':>7}{'main s':>8}{'total s':>9}{'vs first':>9}"
    print(head)
    for r in rows:
        print(f"{r['variant']:<26}{r['pca']:>7.1f}{r['knn']:>7.1f}{r['ee']:>7.1f}{r['main']:>8.1f}{r['total']:>9.1f}"
              f"{r['total'] / base:>9.2f}")
    print(f"\n{'variant':<26}{'main iter':>10}{'seconds':>9}{'10-NN kept':>12}{'kNN label acc':>15}")
    for r in rows:
        for key in r:
            if key.startswith("nn@"):
                it = key[3:]
                acc = f"{r[f'acc@{it}']:>15.3f}" if f"acc@{it}" in r else f"{'-':>15}"
                print(f"{r['variant']:<26}{it:>10}{r[f't@{it}']:>9.1f}{r[key]:>12.3f}{acc}")


if __name__ == "__main__":
    main()
