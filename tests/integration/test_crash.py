"""Kill a real `deepviz build` (SIGKILL) at every stage boundary and inside the long stages, first
and incremental builds: the project must stay the old one (or absent), and the rerun must give a
project identical to an uninterrupted build. Also: two builds at once on one project."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import deepviz
from deepviz.core.mosaic import tile_counts
from deepviz.faults import ENV
from deepviz.storage.lock import build_lock
from tests.conftest import make_folder, write_image

ROOT = Path(__file__).resolve().parents[2]
# The fake extractor, registered in the child process so the real CLI can name it.
DRIVER = (
    "import sys; sys.path.insert(0, {root!r});"
    "from tests.conftest import ColourExtractor;"
    "from deepviz.features.registry import register_extractor;"
    "register_extractor('colour', lambda **o: ColourExtractor());"
    "from deepviz.cli import main; sys.argv = ['deepviz', *sys.argv[1:]]; main()"
)
KILL_POINTS = [
    "scan", "chunk#1", "chunk#2", "chunk#3", "features-block", "features", "imported", "thumbnails#1", "thumbnails#2",
    "thumbnails#3",
    "colors", "images-table", "layout", "layout-cached", "grid", "layout-and-grid-saved", "tile-pixels-block",
    "tile-pixels", "tile-level#2", "manifest-before", "manifest", "cleanup#1", "cleanup#3",
]


def _build(images: Path, out: Path, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if kill_at:
        env[ENV] = kill_at
    feats = images.parent / "extra.npz"
    args = ["build", str(images), "-o", str(out), "-m", "colour", "--features", str(feats), "--features-name", "extra",
            "--chunk-size", "4", "--batch-size", "4", "--quiet"]
    return subprocess.run([sys.executable, "-c", DRIVER.format(root=str(ROOT)), *args], env=env,
                          capture_output=True, text=True, timeout=300)


def _images(base: Path, incremental: bool) -> Path:
    images = make_folder(base / "images", per_class=4, with_broken=True)
    if incremental:
        for k in range(12):  # three chunks of 4, so "chunk#3" is reached in incremental builds too
            write_image(images / "yellow" / f"y{k}.png", (230, 230, 20 + 10 * k))
    # A precomputed feature file keyed by path (each row a function of its path, so adding images
    # leaves the old rows as they were): the imported feature set follows the images.
    paths = [p.relative_to(images).as_posix() for p in sorted(images.rglob("*.*")) if p.suffix in (".png", ".jpg")]
    rows = [np.random.default_rng(zlib.crc32(p.encode())).normal(size=5) for p in paths]
    np.savez(base / "extra.npz", features=np.array(rows, np.float32), paths=np.array(paths))
    return images


def _contents(out: Path, *bases: Path) -> dict[str, object]:
    """Everything a project holds, to compare two projects (the manifest without its timestamps,
    and with the folder the images were built from written as BASE)."""
    p = deepviz.open_project(out)
    text = (out / "manifest.json").read_text()
    for base in bases:
        text = text.replace(str(base.resolve()), "BASE")
    manifest = json.loads(text)
    for key in ("created", "updated"):
        manifest.pop(key)
    thumbs = {s: [p.thumbnail(i, s) for i in range(p.n)] for s in p.thumbnail_sizes}
    assert p.tiles is not None
    counts = {px: tile_counts(*p.grid_shape, px) for px in p.tiles.info.levels}
    tiles = {px: [p.tiles.get(px, ty, tx) for ty in range(t[0]) for tx in range(t[1])] for px, t in counts.items()}
    return {
        "manifest": manifest, "images": p.images.to_dict("list"), "rejects": p.rejects.to_dict("list"),
        "features": {name: np.asarray(p.features(name)).tobytes() for name in p.feature_sets},
        "layout": np.asarray(p.layout).tobytes(), "grid": np.asarray(p.grid).tobytes(),
        "colors": np.asarray(p.colors).tobytes(), "thumbs": thumbs,
        "tile_pixels": np.asarray(p.tiles.pixels(p.n)).tobytes(), "tiles": tiles,
    }


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Uninterrupted builds: the first one, and the incremental one after images were added."""
    base = tmp_path_factory.mktemp("reference")
    images = _images(base, incremental=False)
    first = base / "first.deepviz"
    assert _build(images, first).returncode == 0
    second = base / "second.deepviz"
    shutil.copytree(first, second)
    _images(base, incremental=True)
    assert _build(images, second).returncode == 0
    return {"first": _contents(first, base), "second": _contents(second, base), "first_path": first, "base": base}


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_a_killed_first_build_resumes_to_the_same_project(kill_at: str, tmp_path: Path, references: dict[str, object]) -> None:
    images = _images(tmp_path, incremental=False)
    out = tmp_path / "p.deepviz"
    killed = _build(images, out, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if kill_at != "manifest" and not kill_at.startswith("cleanup"):
        with pytest.raises(deepviz.ProjectError):  # no project yet: absent, not half-made
            deepviz.open_project(out)
    rerun = _build(images, out)
    assert rerun.returncode == 0, rerun.stderr
    assert _contents(out, tmp_path) == references["first"]
    assert not (out / ".work").exists()


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_a_killed_incremental_build_keeps_the_old_project_and_resumes(
    kill_at: str, tmp_path: Path, references: dict[str, object]
) -> None:
    out = tmp_path / "p.deepviz"
    shutil.copytree(references["first_path"], out)  # type: ignore[arg-type]
    images = _images(tmp_path, incremental=True)
    killed = _build(images, out, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    now = _contents(out, tmp_path, references["base"])  # type: ignore[arg-type]
    assert now in (references["first"], references["second"])  # the old project intact, or the new one whole
    rerun = _build(images, out)
    assert rerun.returncode == 0, rerun.stderr
    assert _contents(out, tmp_path, references["base"]) == references["second"]  # type: ignore[arg-type]


def test_a_second_build_of_a_project_being_built_is_refused_by_name(tmp_path: Path) -> None:
    images = _images(tmp_path, incremental=False)
    out = tmp_path / "p.deepviz"
    with build_lock(out):
        second = _build(images, out)
    assert second.returncode == 1 and f"being built by process {os.getpid()}" in second.stderr
    assert "Traceback" not in second.stderr and not (out / "manifest.json").exists()


def test_two_builds_started_together_leave_one_whole_project(tmp_path: Path) -> None:
    images = _images(tmp_path, incremental=False)
    out = tmp_path / "p.deepviz"
    cmd = [sys.executable, "-c", DRIVER.format(root=str(ROOT)), "build", str(images), "-o", str(out), "-m", "colour", "--quiet"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes[0] == 0 and codes[1] in (0, 1), results
    if codes[1] == 1:
        # "by process PID", or "by another process" when it has not written its PID yet
        assert any(" is being built by " in err and "run again" in err for _, err in results), results
    p = deepviz.open_project(out)
    assert p.n == 12 and p.images["path"].is_unique
