"""Benchmark: peak memory of a decompression-bomb PNG (88 Mpx, 16-bit RGBA, < 1 MB) in a build and an upload.

Not a test: each scenario runs in a child process, which reports its own peak RSS (VmHWM from
/proc/self/status, Linux). With ``--baseline SRC`` (a checkout of deepviz from before a change)
every scenario also runs against SRC, and the ratios new / baseline are printed. The ordinary
images (JPEG photos, RGB/RGBA/palette/16-bit PNGs) report decode time and a hash of their crops,
so a change in what they decode to is seen. Run one at a time: a baseline build with 2 workers
peaks near 4 GB.

    python bench/bench_decode_memory.py [--baseline /tmp/deepviz-before] [--only build-1,upload-2]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent.parent
BOMB_SIDE = 9400  # 88.4 Mpx: just under Pillow's 89,478,485-pixel limit
# "upload-2@512": two uploads at once with --upload-max-decode-mb 512, which lets the bomb through
# (the default 256 rejects it); compared with the baseline's "upload-2".
SCENARIOS = ("build-1", "build-2", "upload-1", "upload-2", "upload-1@512", "upload-2@512", "ordinary")


class TinyExtractor:
    """Features are the crop's mean colour: no model to download, so the decode is what is measured."""

    name = "tiny"
    dim = 3
    input_size = 16

    def embed(self, crops: np.ndarray) -> np.ndarray:
        return crops.reshape(len(crops), -1, 3).mean(axis=1).astype(np.float32) + 1.0


def write_bomb(path: Path, side: int = BOMB_SIDE) -> None:
    """A ``side`` × ``side`` 16-bit RGBA PNG: a horizontal colour ramp, half of it half-transparent.

    Every row is the same, so each row after the first is filtered "Up" into zeros and deflate
    shrinks the 8 bytes a pixel to about 1/1000: the file is well under 1 MB.
    """
    x = np.arange(side, dtype=np.uint32)
    ramp = (x * 65535 // max(1, side - 1)).astype(">u2")
    alpha = np.where(x < side // 2, 65535, 32768).astype(">u2")
    row = np.stack([ramp, np.full(side, 30000, ">u2"), 65535 - ramp, alpha], axis=1).tobytes()
    packer = zlib.compressobj(9)
    body = [packer.compress(b"\0" + row)]
    zero_row = b"\2" + bytes(len(row))
    body += [packer.compress(zero_row) for _ in range(side - 1)]
    body.append(packer.flush())
    data = b"".join(body)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def write_ordinary(folder: Path) -> list[Path]:
    """Photos and PNGs of the kinds users have: smooth noise, so JPEG and deflate behave as on photos."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []

    def smooth(w: int, h: int, bands: int) -> np.ndarray:
        small = rng.integers(0, 256, (h // 16 + 1, w // 16 + 1, bands), dtype=np.uint8)
        big = Image.fromarray(small.squeeze()).resize((w, h), Image.Resampling.BICUBIC)
        return np.asarray(big).reshape(h, w, bands)

    for i in range(8):
        p = folder / f"photo{i}.jpg"
        exif = Image.Exif()
        exif[0x0112] = 6 if i % 4 == 0 else 1
        Image.fromarray(smooth(4032, 3024, 3)).save(p, quality=90, exif=exif)
        paths.append(p)
    for i in range(3):
        kinds = {
            "rgb": Image.fromarray(smooth(2400, 1600, 3)),
            "rgba": Image.fromarray(smooth(1600, 2400, 4), "RGBA"),
            "pal": Image.fromarray(smooth(2000, 1500, 3)).quantize(64),
            "grey16": Image.fromarray(smooth(1800, 1200, 1)[..., 0].astype(np.uint16) * 257),
        }
        for kind, img in kinds.items():
            p = folder / f"{kind}{i}.png"
            img.save(p)
            paths.append(p)
    return paths


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def vm_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_build(work: Path, workers: int) -> dict[str, object]:
    import deepviz

    before = vm_rss_mb()
    start = time.perf_counter()
    report = deepviz.build(work / "bombs", work / f"out-{os.getpid()}", models=[TinyExtractor()],
                           workers=workers, progress=False)
    rejects = [str(r) for r in getattr(report, "rejects", [])][:2]
    return {"rss_before_mb": before, "seconds": time.perf_counter() - start, "rejects": rejects}


def child_upload(work: Path, at_once: int, decode_mb: int | None) -> dict[str, object]:
    from fastapi.testclient import TestClient

    from deepviz.server.app import create_app
    from deepviz.settings import ServeSettings

    data = (work / "bombs" / "bomb0.png").read_bytes()
    settings = ServeSettings(upload_max_decode_mb=decode_mb) if decode_mb else None
    with TestClient(create_app(work / "small.deepviz", settings, embedder=TinyExtractor())) as client:
        client.get("/api/info")
        before = vm_rss_mb()
        start = time.perf_counter()
        statuses: list[str] = []
        gate = threading.Barrier(at_once)

        def post() -> None:
            gate.wait()
            r = client.post("/api/queries/upload", files={"file": ("bomb.png", data, "image/png")})
            statuses.append(f"{r.status_code} {r.json().get('detail', '')}"[:160])

        threads = [threading.Thread(target=post) for _ in range(at_once)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return {"rss_before_mb": before, "seconds": time.perf_counter() - start, "statuses": statuses}


def child_ordinary(work: Path) -> dict[str, object]:
    from deepviz.images.decode import decode_crop

    paths = sorted((work / "ordinary").iterdir())
    before = vm_rss_mb()
    digest = hashlib.sha256()
    start = time.perf_counter()
    for p in paths:
        digest.update(decode_crop(p, 224).crop.tobytes())
    return {"rss_before_mb": before, "seconds": time.perf_counter() - start, "crops_sha256": digest.hexdigest()[:16]}


def child(scenario: str, work: Path) -> None:
    name, _, budget = scenario.partition("@")
    kind, _, n = name.partition("-")
    if kind == "build":
        out = child_build(work, int(n))
    elif kind == "upload":
        out = child_upload(work, int(n), int(budget) if budget else None)
    else:
        out = child_ordinary(work)
    out["peak_rss_mb"] = vm_hwm_mb()
    print(json.dumps(out))


def run(scenario: str, work: Path, src: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, __file__, "--child", scenario, "--work", str(work)],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def prepare(work: Path) -> None:
    sys.path.insert(0, str(HERE))  # this checkout's deepviz, not whichever one is installed
    import deepviz

    (work / "bombs").mkdir(parents=True, exist_ok=True)
    write_bomb(work / "bombs" / "bomb0.png")
    (work / "bombs" / "bomb1.png").write_bytes((work / "bombs" / "bomb0.png").read_bytes())
    ordinary = write_ordinary(work / "ordinary")
    small = work / "small-images"
    small.mkdir()
    for p in ordinary[:4]:
        (small / p.name).write_bytes(p.read_bytes())
        (work / "bombs" / p.name).write_bytes(p.read_bytes())  # a build of two images alone is too small to lay out
    deepviz.build(small, work / "small.deepviz", models=[TinyExtractor()], progress=False)


def show(scenario: str, new: dict[str, object], old: dict[str, object] | None) -> None:
    def fmt(r: dict[str, object]) -> str:
        if "error" in r:
            return f"error {r['error']}"
        extra = r.get("statuses") or r.get("rejects") or r.get("crops_sha256") or ""
        return (f"peak {r['peak_rss_mb']:7.0f} MB (from {r['rss_before_mb']:5.0f})  "
                f"{r['seconds']:6.2f} s  {extra}")

    print(f"{scenario:>9}  new:      {fmt(new)}")
    if old is not None:
        print(f"{'':>9}  baseline: {fmt(old)}")
        if "error" not in new and "error" not in old:
            ratio = float(new["peak_rss_mb"]) / float(old["peak_rss_mb"])  # type: ignore[arg-type]
            speed = float(new["seconds"]) / float(old["seconds"])  # type: ignore[arg-type]
            print(f"{'':>9}  new/baseline: peak RSS x{ratio:.2f}, time x{speed:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a deepviz source tree to compare with (PYTHONPATH)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated among {SCENARIOS}")
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work)
        return
    with tempfile.TemporaryDirectory(prefix="deepviz-bench-mem-") as tmp:
        work = Path(tmp)
        prepare(work)
        bomb = work / "bombs" / "bomb0.png"
        print(f"bomb: {BOMB_SIDE}x{BOMB_SIDE} 16-bit RGBA PNG, {bomb.stat().st_size / 1e3:.0f} KB; "
              f"{os.cpu_count()} CPUs; each scenario in its own process")
        baselines: dict[str, dict[str, object]] = {}
        for scenario in args.only.split(","):
            new = run(scenario, work, HERE)
            base = scenario.partition("@")[0]  # the baseline has no upload budget to raise
            if args.baseline and base not in baselines:
                baselines[base] = run(base, work, args.baseline)
            show(scenario, new, baselines.get(base))


if __name__ == "__main__":
    main()
