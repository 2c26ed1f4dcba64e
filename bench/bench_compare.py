"""Benchmark the per-query work of comparing feature sets and of query expansion, beside one full ranking.

    python bench/bench_compare.py [--n 1000000] [--dim 512] [--k 10]

Random unit-norm float16 features (two sets) in memory. Times, each the median of 5 in this same
process: one full ranking (deepviz.core.similarity.rank, as the server does it), the rank-difference
codes of two rankings (deepviz.core.rank_difference, the map's colouring: N bytes sent), and average
query expansion (deepviz.core.expansion: top k, mean, normalise; its new ranking is one more full
ranking). Prints figures and ratios only; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from deepviz.core.expansion import expand_query, top_neighbours
from deepviz.core.rank_difference import rank_difference_codes
from deepviz.core.similarity import rank, ranks_of


def unit_float16(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, d), dtype=np.float16)
    for start in range(0, n, 65536):
        block = rng.standard_normal((min(65536, n - start), d)).astype(np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def median_ms(job: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        job()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    a, b = unit_float16(args.n, args.dim, 0), unit_float16(args.n, args.dim, 1)
    query = 17
    qa, qb = a[query].astype(np.float32), b[query].astype(np.float32)
    order_a, _ = rank(a, qa)
    order_b, _ = rank(b, qb)
    ranks_a, ranks_b = ranks_of(order_a), ranks_of(order_b)
    ranking = median_ms(lambda: rank(a, qa))
    codes = median_ms(lambda: rank_difference_codes(ranks_a, ranks_b, query))
    both_ranks = median_ms(lambda: (ranks_of(order_a), ranks_of(order_b)))
    expand = median_ms(lambda: expand_query(a, qa, top_neighbours(order_a, args.k, exclude=query)))
    print(f"N={args.n:,} D={args.dim} k={args.k} (float16 features)")
    print(f"  one full ranking                 {ranking:9.1f} ms")
    print(f"  rank-difference codes            {codes:9.1f} ms  ({codes / ranking:.2f} x a ranking; {args.n / 1e6:.1f} MB sent)")
    print(f"    + the two rank arrays (once)   {both_ranks:9.1f} ms")
    print(f"  query expansion (top k, mean)    {expand:9.3f} ms  (then one full ranking of the new query)")


if __name__ == "__main__":
    main()
