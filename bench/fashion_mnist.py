"""Write Debian's Fashion-MNIST (`apt-get install dataset-fashion-mnist`) as a folder of labelled PNGs.

70,000 real product photos (28 x 28 greyscale, Zalando), 10 classes, for a real-size build:

    python bench/fashion_mnist.py /tmp/fashion            # /tmp/fashion/<class>/<split>-<index>.png
    /usr/bin/time -v deepviz build /tmp/fashion -o /tmp/fashion.deepviz
    deepviz eval /tmp/fashion.deepviz

Not a test; it writes the folder and prints how many images each class got.
"""
from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = Path("/usr/share/datasets/fashion-mnist")
# The dataset's class names; "T-shirt/top" holds a slash, which a folder name cannot.
CLASSES = ("T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (big-endian dims after a 4-byte magic whose last byte is the rank) as a uint8 array."""
    data = gzip.decompress(path.read_bytes())
    rank = data[3]
    dims = np.frombuffer(data, dtype=">u4", count=rank, offset=4)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(tuple(int(d) for d in dims))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--limit", type=int, help="write only the first N images of each split")
    args = parser.parse_args()
    counts = dict.fromkeys(CLASSES, 0)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(args.source / f"{prefix}-images-idx3-ubyte.gz")
        labels = read_idx(args.source / f"{prefix}-labels-idx1-ubyte.gz")
        for i, (pixels, label) in enumerate(zip(images[: args.limit], labels[: args.limit])):
            folder = args.out / CLASSES[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(folder / f"{split}-{i:05d}.png")
            counts[CLASSES[label]] += 1
    print(f"{sum(counts.values())} images in {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
