"""Benchmark the candidate ways to score N float16 rows against a query, beside a raw read and np.argsort.

    python bench/bench_scan.py [--n 1000000] [--d 1280] [--repeats 5] [--features FILE.npy] [--jit-only]

Candidates (each a full (N,) float32 similarity vector from the float16 memory map):
  numpy blocks   deepviz's path without the fast extra: 65536-entry table to float32, BLAS matvec per block
  numba          deepviz.core.halfdot (the fast extra): bits widened in registers, every core
  numba 1 core   the same kernel on one thread
  onnxruntime    Cast(float16 -> float32) + MatMul per block, 2 threads
  torch f16 mv   torch.mv on float16 (only when torch is installed; not a default dependency)
Baselines measured in the same process: a raw read of the same bytes (a numba sum over every
element, on every core) and np.argsort of N float32. Then the sort step: order_by_similarity
(one uint64 key sort) against argsort, and the kernel's start-up in a fresh process (import
numba + compile, with an empty disk cache, then again from the cache; NUMBA_CACHE_DIR points
at a temp folder). Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from deepviz.core.similarity import order_by_similarity, similarities


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def synthetic(path: Path, n: int, d: int) -> None:
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(n, d))
    rng = np.random.default_rng(0)
    for start in range(0, n, 1 << 16):
        block = rng.standard_normal((min(1 << 16, n - start), d), dtype=np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    out.flush()


def raw_reader() -> Callable[[np.ndarray], object]:
    import numba

    @numba.njit(parallel=True)
    def read(bits: np.ndarray) -> np.ndarray:
        acc = np.zeros(bits.shape[0], np.uint32)
        for i in numba.prange(bits.shape[0]):
            s = np.uint32(0)
            for j in range(bits.shape[1]):
                s += bits[i, j]
            acc[i] = s
        return acc

    return read


def onnx_scorer(d: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    import onnxruntime as ort
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Cast", ["x"], ["x32"], to=TensorProto.FLOAT), helper.make_node("MatMul", ["x32", "q"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "scan",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [None, d]), helper.make_tensor_value_info("q", TensorProto.FLOAT, [d, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def score(x: np.ndarray, q: np.ndarray) -> np.ndarray:
        out = np.empty(len(x), np.float32)
        for s in range(0, len(x), 1 << 14):
            out[s : s + (1 << 14)] = session.run(None, {"x": np.asarray(x[s : s + (1 << 14)]), "q": q[:, None]})[0][:, 0]
        return out

    return score


def jit_start_up() -> None:
    import subprocess
    import sys

    code = "import time; t = time.perf_counter(); from deepviz.core.halfdot import compile_now; compile_now(); print(time.perf_counter() - t)"
    with tempfile.TemporaryDirectory(prefix="deepviz-numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = [float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout) for _ in range(3)]
    print(f"kernel start-up in a fresh process (import numba + compile): {runs[0]:.2f} s with an empty cache, {min(runs[1:]):.2f} s from the cache")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=1280)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--features", type=Path, help="an existing (N, D) float16 .npy to read instead of a synthetic one")
    parser.add_argument("--jit-only", action="store_true", help="measure only the kernel's start-up")
    args = parser.parse_args()
    jit_start_up()
    if args.jit_only:
        return
    with tempfile.TemporaryDirectory(prefix="deepviz-bench-scan-") as tmp:
        path = args.features or Path(tmp) / "features.npy"
        if not args.features:
            print(f"writing {args.n:,} x {args.d} float16 ...", flush=True)
            synthetic(path, args.n, args.d)
        run(np.load(path, mmap_mode="r"), args.repeats)


def run(x: np.ndarray, repeats: int) -> None:
    import numba

    from deepviz.core.halfdot import compile_now

    n, d = x.shape
    q = np.asarray(x[n // 3], np.float32)
    exact = np.asarray(x[:20_000], np.float32).astype(np.float64) @ q.astype(np.float64)
    sims = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    read = raw_reader()
    read(x.view(np.uint16)[:2])
    compile_now()
    rows: list[tuple[str, float, float]] = []

    def measure(label: str, fn: Callable[[], np.ndarray], reps: int = repeats) -> None:
        out = fn()  # also warms the page cache and any JIT
        error = float(np.abs(out[: len(exact)] - exact).max()) if out.dtype == np.float32 and len(out) == n else float("nan")
        rows.append((label, median_ms(fn, reps), error))

    argsort = median_ms(lambda: np.argsort(sims), repeats)
    measure("raw read (numba sum, all cores)", lambda: read(x.view(np.uint16)))
    measure("numba kernel, all cores", lambda: similarities(x, q))
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    from deepviz.core import halfdot

    halfdot._pool.cache_clear()
    os_cpu = os.cpu_count
    os.cpu_count = lambda: 1  # type: ignore[assignment]
    try:
        measure("numba kernel, 1 core", lambda: similarities(x, q))
    finally:
        os.cpu_count = os_cpu  # type: ignore[assignment]
        halfdot._pool.cache_clear()
        numba.set_num_threads(threads)
    measure("numpy blocks (no fast extra)", lambda: similarities(x, q, block_rows=1 << 7), reps=max(1, repeats // 3))
    measure("onnxruntime Cast+MatMul", lambda: onnx_scorer(d)(x, q), reps=max(1, repeats // 3))
    try:
        import torch

        xt = torch.from_numpy(np.array(x))  # a copy in RAM: torch takes no read-only memory map
        measure("torch f16 mv (in RAM)", lambda: torch.mv(xt, torch.from_numpy(q).half()).float().numpy())
    except ImportError:
        pass
    s = similarities(x, q)
    rows.append(("order_by_similarity (uint64 key sort)", median_ms(lambda: order_by_similarity(s), repeats), float("nan")))
    gb = x.nbytes / 1e9
    print(f"\n{n:,} x {d} float16 = {gb:.2f} GB; {os.cpu_count()} CPUs; medians of {repeats}; np.argsort of {n:,} float32: {argsort:.1f} ms")
    print(f"{'step':<40}{'ms':>9}{'GB/s':>8}{'x argsort':>11}{'max |err| vs float64':>22}")
    for label, ms, err in rows:
        rate = f"{gb / ms * 1e3:8.1f}" if "sort" not in label else f"{'':>8}"
        print(f"{label:<40}{ms:>9.1f}{rate}{ms / argsort:>11.2f}{err:>22.1e}")


if __name__ == "__main__":
    main()
