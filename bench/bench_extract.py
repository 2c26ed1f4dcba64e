"""Benchmark: MobileNetV2 images/s on onnxruntime vs torch, 1 and 2 threads, batch 32.

Not a test: prints throughput and the ratio to the onnx 1-thread baseline measured in the same
process. Run: python bench/bench_extract.py [--batches N] [--batch-size B]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from deepviz.features.registry import get_extractor


def images_per_second(backend: str, threads: int, crops: np.ndarray, batches: int) -> float:
    extractor = get_extractor("mobilenet_v2", backend=backend, intra_op_num_threads=threads)
    extractor.embed(crops)  # warm-up: first-call allocation and kernel selection
    start = time.perf_counter()
    for _ in range(batches):
        extractor.embed(crops)
    return batches * len(crops) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    # Keep a first run's ONNX export out of ~/.cache unless the user points DEEPVIZ_CACHE there.
    os.environ.setdefault("DEEPVIZ_CACHE", os.path.join(tempfile.gettempdir(), "deepviz-bench-models"))

    crops = np.random.default_rng(0).integers(0, 256, (args.batch_size, 224, 224, 3), dtype=np.uint8)
    print(f"mobilenet_v2, batch {args.batch_size}, {args.batches} batches, {os.cpu_count()} CPUs")
    baseline = None
    for backend, threads in [("onnx", 1), ("onnx", 2), ("torch", 1), ("torch", 2)]:
        rate = images_per_second(backend, threads, crops, args.batches)
        baseline = baseline or rate
        print(f"{backend:>5} {threads} thread(s): {rate:7.1f} images/s  {1000 / rate:6.1f} ms/image  "
              f"x{rate / baseline:.2f} vs onnx-1")


if __name__ == "__main__":
    main()
