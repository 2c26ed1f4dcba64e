"""Ingest rate on photos: JPEGs of 0.5 to 12 Mpx through the build's decode + thumbnail pass.

    python bench/bench_ingest.py --photos FOLDER     photos of your own (any sizes; grouped by megapixels)
    python bench/bench_ingest.py --from FOLDER       make JPEGs of 0.5, 2, 5 and 12 Mpx from the images there
    python bench/bench_ingest.py                     the same from generated 1/f-noise images (no photo at hand)

Each size is ingested as the precomputed-features case does (decode the centre crop once at the
largest thumbnail's size, then JPEG thumbnails at 32, 64, 128 px and the mean colour; no model),
with Pillow's JPEG draft mode (what deepviz does: the decoder scales by 1/2, 1/4 or 1/8 itself) and
without it (the full image decoded, then resized), in this same process.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, JpegImagePlugin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from deepviz.pipeline.extract import extract_chunks  # noqa: E402
from deepviz.settings import DEFAULT_THUMB_SIZES  # noqa: E402

MEGAPIXELS = (0.5, 2.0, 5.0, 12.0)
ASPECT = 4 / 3


def _noise_image(side: int, seed: int) -> Image.Image:
    """A side x side RGB image with a 1/f amplitude spectrum, like natural images have."""
    rng = np.random.default_rng(seed)
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(side), np.fft.rfftfreq(side), indexing="ij"))
    f[0, 0] = 1
    chans = []
    for _ in range(3):
        spec = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f
        x = np.fft.irfft2(spec, s=(side, side))
        chans.append((x - x.min()) / (np.ptp(x) or 1))
    return Image.fromarray((np.stack(chans, axis=2) * 255).astype(np.uint8))


def make_photos(out: Path, sources: list[Image.Image], per_size: int) -> dict[float, Path]:
    """``per_size`` JPEGs (quality 90) of each of MEGAPIXELS, resized from ``sources`` in turn; a folder per size."""
    folders = {}
    for mp in MEGAPIXELS:
        h = int(round((mp * 1e6 / ASPECT) ** 0.5))
        w = int(round(h * ASPECT))
        folder = out / f"{mp:g}mpx"
        folder.mkdir(parents=True)
        for k in range(per_size):
            src = sources[k % len(sources)].convert("RGB")
            img = src.resize((w, h), Image.Resampling.BICUBIC) if k % 2 == 0 else src.resize((h, w), Image.Resampling.BICUBIC)
            img.save(folder / f"p{k:03d}.jpg", quality=90)
        folders[mp] = folder
    return folders


@contextmanager
def no_draft() -> Iterator[None]:
    """JPEG decoded at full size (Pillow's draft a no-op), to see what draft mode buys."""
    original = JpegImagePlugin.JpegImageFile.draft
    JpegImagePlugin.JpegImageFile.draft = lambda self, mode, size: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        JpegImagePlugin.JpegImageFile.draft = original  # type: ignore[method-assign]


def ingest_rate(folder: Path, workers: int) -> float:
    paths = sorted(p.name for p in folder.iterdir())
    start = time.perf_counter()
    n = sum(int(c.ok.sum()) for c in extract_chunks(folder, paths, [], thumb_sizes=DEFAULT_THUMB_SIZES, workers=workers))
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path)
    parser.add_argument("--from", dest="sources", type=Path)
    parser.add_argument("--per-size", type=int, default=24)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.photos:
            folders = {0.0: args.photos}
            what = str(args.photos)
        else:
            if args.sources:
                sources: list[Image.Image] = [Image.open(p) for p in sorted(args.sources.iterdir()) if p.suffix.lower() in (".jpg", ".png")]
                what = f"JPEGs resized from {len(sources)} images in {args.sources}"
            else:
                sources = [_noise_image(1024, s) for s in range(4)]
                what = "JPEGs of generated 1/f noise (no photos at hand)"
            folders = make_photos(Path(tmp), sources, args.per_size)
        print(f"== ingest (decode + 3 thumbnails + mean colour, no model): {what}; {args.workers} decode threads; "
              f"load average {os.getloadavg()[0]:.1f} ==")
        print(f"{'size':>8}{'MB/file':>9}{'draft img/s':>13}{'full img/s':>12}{'draft vs full':>15}")
        for mp, folder in folders.items():
            size = np.mean([p.stat().st_size for p in folder.iterdir()]) / 1e6
            draft = ingest_rate(folder, args.workers)
            with no_draft():
                full = ingest_rate(folder, args.workers)
            print(f"{(f'{mp:g} Mpx' if mp else 'given'):>8}{size:>9.2f}{draft:>13.1f}{full:>12.1f}{draft / full:>14.1f}x")


if __name__ == "__main__":
    main()
