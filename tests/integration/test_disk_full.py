"""A full disk: a clear message, no temporary files left, nothing lost, and the rerun finishes.

On a real small filesystem (a tmpfs, when this process may mount one: CI runs as root) and, in
any case, with the error injected where a chunk is written.
"""
from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import deepviz
from deepviz.cli import cli
from deepviz.features.registry import register_extractor, unregister_extractor
from deepviz.pipeline.build import DiskFull
from tests.conftest import ColourExtractor, make_folder, write_image


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and Path("/proc/filesystems").read_text().count("tmpfs") > 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs; ``ballast`` in it can be grown or removed to make the disk full or not."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); the injected test covers this")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.fixture
def colour() -> Iterator[None]:
    register_extractor("colour", lambda **options: ColourExtractor())
    yield
    unregister_extractor("colour")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file() and ".work" not in p.parts}


def _fill(mount: Path, leave: int) -> Path:
    """Grow a ballast file until only about ``leave`` bytes are free."""
    ballast = mount / "ballast"
    free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
    with open(ballast, "ab") as f:
        f.write(b"\0" * max(0, free - leave))
    return ballast


@pytest.mark.skipif(not _can_mount(), reason="mounting a tmpfs needs root; test_injected_disk_full covers the logic")
def test_a_full_disk_is_a_message_and_the_rerun_finishes(small_disk: Path, tmp_path: Path, colour: None) -> None:
    images = make_folder(tmp_path / "images", per_class=6, with_broken=False)
    out = small_disk / "p.deepviz"
    assert deepviz.build(images, out, models=["colour"], progress=False).n_images == 18
    before = _files(out)
    for k in range(60):  # enough new images that their thumbnails cannot fit
        write_image(images / "yellow" / f"y{k}.png", (230, 230, (5 * k) % 250), size=(300, 300))
    ballast = _fill(small_disk, 40_000)
    result = CliRunner().invoke(cli, ["build", str(images), "-o", str(out), "-m", "colour", "--quiet"])
    assert result.exit_code == 1 and "the disk is full" in result.output and "Traceback" not in result.output
    assert _files(out) == before  # the old project, untouched
    assert not list(out.rglob(".*.tmp")) and deepviz.open_project(out).n == 18
    ballast.unlink()
    assert deepviz.build(images, out, models=["colour"], progress=False).n_images == 78


def test_injected_disk_full_keeps_the_project_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images = make_folder(tmp_path / "images", per_class=4, with_broken=False)
    out = tmp_path / "p.deepviz"
    deepviz.build(images, out, models=[ColourExtractor()], progress=False)
    before = _files(out)
    write_image(images / "yellow" / "late.png", (230, 230, 20))
    import deepviz.storage.writer as writer

    real = writer.l2_normalize

    def no_space(*args: object, **kwargs: object) -> np.ndarray:
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "features" / "colour.npy"))

    monkeypatch.setattr(writer, "l2_normalize", no_space)
    with pytest.raises(DiskFull, match="the disk is full.*run the same command again"):
        deepviz.build(images, out, models=[ColourExtractor()], progress=False)
    assert _files(out) == before and not list(out.rglob(".*.tmp"))
    monkeypatch.setattr(writer, "l2_normalize", real)
    assert deepviz.build(images, out, models=[ColourExtractor()], progress=False).n_new == 1
