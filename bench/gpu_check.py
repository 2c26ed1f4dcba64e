"""Check the GPU path of feature extraction on a machine with CUDA: same features, how much faster.

    python bench/gpu_check.py [--out results.json] [--weights mobilenet_v2-b0353104.pth]

Runs the bundled MobileNetV2 three ways in one process — torch on the GPU, torch on the CPU
and ONNX Runtime on the CPU (the default) — on the same crops (scikit-image's cat and coffee
plus seeded noise), and prints the largest feature difference, the predicted classes on the
GPU, and images/s for each, with ratios against the default CPU path.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
from PIL import Image

from deepviz.features.mobilenet import MobileNetV2


def crops(n: int) -> np.ndarray:
    from skimage import data

    out = []
    for photo in (data.chelsea(), data.coffee()):
        h, w = photo.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        out.append(np.asarray(Image.fromarray(photo[top : top + side, left : left + side]).resize((224, 224), Image.BICUBIC)))
    rng = np.random.default_rng(0)
    out.extend(rng.integers(0, 256, (n - 2, 224, 224, 3), dtype=np.uint8))
    return np.stack(out)


def rate(model: MobileNetV2, x: np.ndarray, batch: int, seconds: float = 3.0) -> float:
    model.embed(x[:batch])  # warm-up (CUDA context, cuDNN autotune, ORT session)
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for s in range(0, len(x), batch):
            model.embed(x[s : s + batch])
        done += len(x)
    return done / (time.perf_counter() - t0)


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out")
    # A GPU machine without network access cannot fetch the checkpoint: bring the file along.
    parser.add_argument("--weights", help="the MobileNetV2 checkpoint file, if it cannot be fetched here")
    args = parser.parse_args()
    x = crops(256)
    gpu = MobileNetV2(device="cuda", weights=args.weights)
    cpu_torch = MobileNetV2(backend="torch", intra_op_num_threads=None, weights=args.weights)
    onnx = MobileNetV2(intra_op_num_threads=None, weights=args.weights)
    f_gpu, f_cpu, f_onnx = gpu.embed(x[:64]), cpu_torch.embed(x[:64]), onnx.embed(x[:64])

    def cos_min(a: np.ndarray, b: np.ndarray) -> float:
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
        return float((a * b).sum(axis=1).min())

    top = gpu.logits(x[:2]).argmax(axis=1).tolist()
    result = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "max_abs_diff_gpu_vs_cpu_torch": float(np.abs(f_gpu - f_cpu).max()),
        "max_abs_diff_gpu_vs_onnx": float(np.abs(f_gpu - f_onnx).max()),
        "min_cosine_gpu_vs_onnx": cos_min(f_gpu, f_onnx),
        "gpu_top1_cat_coffee": top,
        "cat_ok": top[0] in range(281, 286),
        "coffee_ok": top[1] in (504, 967, 968),
    }
    rates = {
        "onnx_cpu_b32": rate(onnx, x, 32),
        "torch_cpu_b32": rate(cpu_torch, x, 32),
        "torch_cuda_b32": rate(gpu, x, 32),
        "torch_cuda_b128": rate(gpu, x, 128),
        "torch_cuda_b256": rate(gpu, x, 256),
    }
    result["images_per_s"] = rates
    base = rates["onnx_cpu_b32"]
    print(json.dumps({k: v for k, v in result.items() if k != "images_per_s"}, indent=2))
    print(f"{'path':<18}{'images/s':>10}{'vs onnx cpu':>13}")
    for name, r in rates.items():
        print(f"{name:<18}{r:>10.0f}{r / base:>13.2f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
