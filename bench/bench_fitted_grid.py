"""Benchmark the server's pane-shaped grids (deepviz/server/fitted_grid.py): how long a page waits
for a grid of its pane's aspect on a large project, and how long a restarted server takes to read it back.

    python bench/bench_fitted_grid.py                 # 100k and 1M synthetic projects
    python bench/bench_fitted_grid.py --n 200000

Not a test: it asserts nothing; it writes only into a temporary folder. The synthetic layouts are
uniform random points (bench/synthetic.py), so the grid times are those of an even map.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.synthetic import write_synthetic_project
from deepviz.server.fitted_grid import FittedGrids
from deepviz.storage.project import open_project


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--aspect", type=float, default=0.72, help="the pane's width / height (a 1440x900 map pane is ~0.72)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.n:
            project = open_project(write_synthetic_project(Path(tmp) / f"p{n}.deepviz", n, 16))
            cache = Path(tmp) / f"grids-{n}"
            grids = FittedGrids(project, cache)
            start = time.perf_counter()
            first = grids.get(args.aspect)  # None: computing in the background, the page is answered 202
            while (fitted := grids.get(args.aspect)) is None:
                time.sleep(0.05)
            ready = time.perf_counter() - start
            start = time.perf_counter()
            FittedGrids(project, cache).get(args.aspect)
            reread = time.perf_counter() - start
            how = "in the request" if first is not None else "in the background"
            print(
                f"N={n:>9,}  {grids.method:<12} {fitted.rows} x {fitted.cols} (aspect {fitted.aspect}) "
                f"{how}: {ready:6.2f} s; read back after a restart: {reread:.3f} s"
            )


if __name__ == "__main__":
    main()
